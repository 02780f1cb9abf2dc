// SPDX-License-Identifier: MIT
// Waiting for a task in the caller's own way: its poll_fd() beside an fd of the caller's (a
// signalfd, an eventfd), with a deadline, without a busy loop.
#pragma once

#include <chrono>

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

using Clock = std::chrono::steady_clock;

enum class WaitResult { ready, interrupted, timed_out };

// Waits until `fd` is readable (ready), `interrupt_fd` (if >= 0) is readable (interrupted),
// or `deadline` passes (timed_out). Clock::time_point::max() waits without a deadline.
WaitResult wait_readable(int fd, Clock::time_point deadline, int interrupt_fd = -1);

}  // namespace cgspawn

#pragma GCC visibility pop
