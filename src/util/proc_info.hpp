// SPDX-License-Identifier: MIT
// What /proc says about one process.
#pragma once

#include <sys/types.h>

#include <optional>

#include "cgspawn/cleanup_report.hpp"

namespace cgspawn {

// pid, comm and one-letter state; comm and state stay empty if the process is already gone.
ProcessRef describe_process(pid_t pid);

// The start time (field 22 of /proc/PID/stat, clock ticks since boot): with the pid it names
// one process for good, since a pid can be reused but not at the same start time.
std::optional<unsigned long long> process_start_time(pid_t pid);

}  // namespace cgspawn
