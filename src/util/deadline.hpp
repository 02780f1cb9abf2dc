// SPDX-License-Identifier: MIT
// Deadlines, and waiting for an fd without busy loops (the public part is cgspawn/wait.hpp).
#pragma once

#include <chrono>

#include "cgspawn/task_spec.hpp"
#include "cgspawn/wait.hpp"

namespace cgspawn {

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace cgspawn
