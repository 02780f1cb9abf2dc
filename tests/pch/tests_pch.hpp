// SPDX-License-Identifier: MIT
// Precompiled for the test sources: doctest's interface (a main's own DOCTEST_CONFIG_IMPLEMENT
// still gets the implementation: doctest guards the two apart), nlohmann::json and the API.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cgspawn/cgspawn.hpp"
