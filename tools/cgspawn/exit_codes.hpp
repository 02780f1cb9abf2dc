// SPDX-License-Identifier: MIT
// The CLI's exit statuses: the program's own, else the convention of timeout(1) and env(1).
#pragma once

#include "cgspawn/error.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn::cli {

inline constexpr int kNothingToDestroy = 3;  // destroy: no such task (already destroyed, or never there)
inline constexpr int kLeftovers = 122;       // --on-leftovers fail, and the task left something
inline constexpr int kTimedOut = 124;
inline constexpr int kCgspawnError = 125;  // bad usage, a failed spawn, or cleanup not complete
inline constexpr int kNotExecutable = 126;
inline constexpr int kNotFound = 127;

// For a task that ran. `caught_signal` is the signal that made `cgspawn` itself destroy the
// task (0 if none).
int exit_code_for(const Result& result, int caught_signal);

// For a task that could not be started.
int exit_code_for(const Error& error);

}  // namespace cgspawn::cli
