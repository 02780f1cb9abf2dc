// SPDX-License-Identifier: MIT
// `cgspawn reap`: destroy every resource whose owner is gone, and report.
#pragma once

#include "verb.hpp"

namespace cgspawn::cli {

Verb add_reap_command(CLI::App& app);

}  // namespace cgspawn::cli
