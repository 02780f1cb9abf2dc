// SPDX-License-Identifier: MIT
// Waiting for a cgroup to become empty: poll on cgroup.events for its change notices, never a
// busy loop.
#pragma once

#include <vector>

#include "cgroup/cgroup.hpp"
#include "util/deadline.hpp"

namespace cgspawn {

// Returns ready when "populated 0" (or the cgroup is gone), interrupted when `interrupt_fd`
// became readable first, timed_out at the deadline. `exits`: pidfds of processes just
// signalled to die; each exit is a reason to look again before the kernel's notice comes.
WaitResult wait_until_empty(const Cgroup& cgroup, Clock::time_point deadline, int interrupt_fd = -1,
                            const std::vector<UniqueFd>& exits = {});

// The same for "frozen 1" after a write to cgroup.freeze.
WaitResult wait_until_frozen(const Cgroup& cgroup, Clock::time_point deadline);

}  // namespace cgspawn
