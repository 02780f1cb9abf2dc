// SPDX-License-Identifier: MIT
// What /proc says about one process.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "cgspawn/cleanup_report.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {

// pid, comm and one-letter state; comm and state stay empty if the process is already gone.
ProcessRef describe_process(pid_t pid);

// What one read of /proc/PID/stat says; nothing when the process is gone.
struct ProcessStat {
  std::string comm;
  std::string state;  // one letter
  unsigned long long start_time = 0;
  pid_t ppid = 0;
};
std::optional<ProcessStat> process_stat(pid_t pid);

// The start time (field 22 of /proc/PID/stat, clock ticks since boot): with the pid it names
// one process for good, since a pid can be reused but not at the same start time.
std::optional<unsigned long long> process_start_time(pid_t pid);

// A pidfd on the process of that pid and start time: opened first, then compared, so that it
// can never hold another process that took the pid since. Invalid when that process is gone.
UniqueFd open_pinned_pidfd(pid_t pid, unsigned long long start_time);

// Where one thread waits in the kernel: /proc/PID/task/TID/wchan ("" while it runs or where
// unreadable) and its kernel stack, innermost first, function names only (root only; else
// empty). Read before a freeze: a frozen thread's wait is the freezer's.
struct KernelWait {
  std::string wchan;
  std::vector<std::string> stack;
};
KernelWait kernel_wait(pid_t pid, pid_t tid);

// The thread ids of a process (/proc/PID/task), at most `cap`; empty once it is gone.
std::vector<pid_t> thread_ids(pid_t pid, std::size_t cap);

// A survivor's ProcessRef: describe_process plus the main thread's kernel wait.
ProcessRef describe_survivor(pid_t pid);

}  // namespace cgspawn
