// SPDX-License-Identifier: MIT
// The fallback where there is no cgroup2 at all: the task is its own process group, and
// destroy signals that group. Processes that leave it (setsid) escape: the row says so.
#pragma once

#include <sys/types.h>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn {

// Members of process group `pgid`, from /proc/*/stat (field 5). Zombies are not counted.
std::vector<ProcessRef> group_members(pid_t pgid);

// Never throws. Outcome not_guaranteed when the group is empty afterwards, failed (with the
// survivors) when members remain.
ResourceOutcome destroy_process_group(pid_t pgid, const DestroyOptions& options);

}  // namespace cgspawn
