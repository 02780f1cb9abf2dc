// SPDX-License-Identifier: MIT
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#define DOCTEST_CONFIG_IMPLEMENT  // also when the precompiled header has included doctest.h already
#include <doctest/doctest.h>

#include "case_log.hpp"

CGTEST_CASE_LOG();
