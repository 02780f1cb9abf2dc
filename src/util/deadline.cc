// SPDX-License-Identifier: MIT
#include "util/deadline.hpp"

#include <poll.h>

#include <cerrno>

namespace cgspawn {

WaitResult wait_readable(int fd, Clock::time_point deadline, int interrupt_fd) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left < 0) left = 0;
    pollfd fds[2] = {{fd, POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    int n = ::poll(fds, interrupt_fd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return WaitResult::timed_out;  // EINVAL/ENOMEM: nothing sensible to wait on
    if (n > 0 && fds[0].revents) return WaitResult::ready;
    if (n > 0 && interrupt_fd >= 0 && fds[1].revents) return WaitResult::interrupted;
    if (Clock::now() >= deadline) return WaitResult::timed_out;
  }
}

}  // namespace cgspawn
