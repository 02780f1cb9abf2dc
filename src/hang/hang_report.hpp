// SPDX-License-Identifier: MIT
// The hang report: what a task's processes were doing when cgspawn destroyed it while its main
// program still ran. Taken before destroy signals anything: each thread's kernel wait is read
// first (a frozen thread waits in the freezer, which hides what it waited for), then the cgroup
// is frozen so the process list holds still (no fork, no exit) while the rest is read, then
// thawed, so destroy's SIGTERM finds the task as it was.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "cgroup/cgroup.hpp"
#include "cgspawn/capabilities.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn {

inline constexpr std::size_t kHungProcessesListed = 200;
// How long a freeze may take: a process in an uninterruptible wait never stops, and the report
// must not hold up the destroy behind it.
inline constexpr Duration kFreezeBound = std::chrono::milliseconds(500);

// A task cgroup's processes (and its descendants'), frozen for the snapshot. `spare`:
// cgspawn's own process there (a scope's anchor), not described.
HangReport take_hang_report(const Cgroup& cgroup, pid_t spare = 0);

// Processes found otherwise (a process group, a cgroup cgspawn cannot freeze): not frozen,
// `why` says so.
HangReport take_hang_report(const std::function<std::vector<pid_t>()>& processes, const std::string& why);

// For `cgspawn backends`: frozen (a cgroup2 with cgroup.freeze) or only read, and by whom.
Capability hang_report_capability(bool frozen, const std::string& where = "");

}  // namespace cgspawn
