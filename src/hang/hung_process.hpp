// SPDX-License-Identifier: MIT
// One process of a hang report, read from /proc: what it is, what it holds, and where each of
// its threads waits in the kernel.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>

#include "cgspawn/result.hpp"

namespace cgspawn {

// Caps that keep one report bounded however large the task is.
inline constexpr std::size_t kHungThreadsListed = 16;
inline constexpr std::size_t kOpenFilesListed = 16;

// Every field but the threads; nullopt once the process is gone.
std::optional<HungProcess> read_hung_process(pid_t pid);

// Its threads (capped) with their kernel waits.
std::vector<HungThread> read_hung_threads(pid_t pid);

}  // namespace cgspawn
