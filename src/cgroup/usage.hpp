// SPDX-License-Identifier: MIT
// Usage read from a task cgroup before it is removed.
#pragma once

#include "cgroup/cgroup.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn {

// cpu.stat (every cgroup2 node has it), memory.peak and memory.events oom_kill where the memory
// controller is on. wall_seconds is left to the caller.
Usage read_usage(const Cgroup& cgroup);

}  // namespace cgspawn
