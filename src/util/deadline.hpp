// Deadlines and waiting for an fd without busy loops.
#pragma once

#include <chrono>

#include "cgspawn/task_spec.hpp"

namespace cgspawn {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

enum class WaitResult { ready, interrupted, timed_out };

// Waits until `fd` is readable, `interrupt_fd` (if >= 0) is readable, or `deadline` passes.
WaitResult wait_readable(int fd, Clock::time_point deadline, int interrupt_fd = -1);

}  // namespace cgspawn
