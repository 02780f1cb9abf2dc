// SPDX-License-Identifier: MIT
// `cgspawn destroy ID`: destroy a task (grace, kill, verify), print its CleanupReport, collect it.
#pragma once

#include "verb.hpp"

namespace cgspawn::cli {

Verb add_destroy_command(CLI::App& app);

}  // namespace cgspawn::cli
