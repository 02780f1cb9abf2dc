// SPDX-License-Identifier: MIT
// Usage read from a task cgroup before it is removed.
#pragma once

#include "cgroup/cgroup.hpp"
#include "cgspawn/capabilities.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn {

// cpu.stat (every cgroup2 node has it; its throttling where the cpu controller is on),
// memory.peak and memory.events oom_kill where the memory controller is on, the cpu, memory and
// io pressure totals where the kernel has PSI. wall_seconds (and the host's pressure) are left
// to the caller.
Usage read_usage(const Cgroup& cgroup);

// For `cgspawn backends`: which of those the task cgroups made under `parent` will have (its
// cgroup.subtree_control says which controllers they get), and whether the host has PSI.
Capability usage_capability(const std::string& parent);

}  // namespace cgspawn
