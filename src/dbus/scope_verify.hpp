// SPDX-License-Identifier: MIT
// What spawn checks after systemd says the start job is done and before the program may run:
// the unit is active, the held processes are in its cgroup, and the limits took (a user
// manager silently drops limits for controllers it was not delegated).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cgspawn/task_spec.hpp"
#include "dbus/manager.hpp"

namespace cgspawn::dbus {

// The unit's cgroup as an absolute path (the cgroup2 mount + its ControlGroup property).
// Throws Error(system) unless the unit is loaded and active.
std::string verify_active(Manager& manager, const std::string& unit);

// Throws Error(system) naming the process and where it is instead.
void verify_members(const std::string& cgroup, const std::vector<pid_t>& pids);

// Reads memory.max, memory.swap.max, pids.max and cpu.max back. Throws Error(unsupported)
// naming the property and the file when a limit did not take.
void verify_limits(const std::string& cgroup, const Limits& limits, unsigned extra_tasks, bool user_manager);

// Waits until systemd has unloaded `unit` (its GC queue is asynchronous) and removed its
// `cgroup` (when given). "" once both are gone, else what is left at the deadline.
std::string wait_unit_gone(Manager& manager, const std::string& unit, const std::string& cgroup,
                           Clock::time_point deadline);

}  // namespace cgspawn::dbus
