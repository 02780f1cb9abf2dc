// SPDX-License-Identifier: MIT
// Limits: which controllers a TaskSpec's limits need, whether the host has them, and
// writing them into the task cgroup.
#pragma once

#include <string>
#include <vector>

#include "cgroup/cgroup.hpp"
#include "cgroup/hierarchy.hpp"
#include "cgspawn/capabilities.hpp"
#include "cgspawn/task_spec.hpp"

namespace cgspawn {

// Whether task cgroups under `parent` can get `controller` ("memory", "pids", "cpu"), and why not.
Capability controller_capability(const std::string& controller, const std::string& parent,
                                 const Hierarchy& hierarchy);

// Throws Error(unsupported) naming the controller and the reason when a limit cannot be
// enforced under `parent`. Creates nothing.
void check_limits_available(const Limits& limits, const std::string& parent, const Hierarchy& hierarchy);

// Makes the controllers the limits need available to children of `parent` (our own cgroup),
// enabling them in its cgroup.subtree_control (and in the cgroups between it and the nearest
// ancestor that hands them down, which must be ones the caller has just made: call
// check_limits_available() before making the parent). Throws Error(unsupported) naming the controller
// and the reason when the host cannot; nothing is started then.
void prepare_controllers(const Limits& limits, const std::string& parent, const Hierarchy& hierarchy);

// Writes the limits into the task cgroup and reads them back. Throws when one did not take.
void apply_limits(const Cgroup& cgroup, const Limits& limits);

}  // namespace cgspawn
