// SPDX-License-Identifier: MIT
// `cgspawn wait ID`: wait for a started task to end; exit as `run` would.
#pragma once

#include "verb.hpp"

namespace cgspawn::cli {

// `wait --timeout` ran out with the task still running. `run` never exits with this on its
// own account (only when the program itself exits 123).
inline constexpr int kStillRunning = 123;

Verb add_wait_command(CLI::App& app);

}  // namespace cgspawn::cli
