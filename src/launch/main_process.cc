// SPDX-License-Identifier: MIT
#include "launch/main_process.hpp"

#include <sys/wait.h>

#include "util/deadline.hpp"

namespace cgspawn {

std::optional<ExitStatus> MainProcess::peek() const {
  if (!exists()) return std::nullopt;
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd()), &info, WEXITED | WNOWAIT | WNOHANG) != 0 ||
      info.si_pid == 0)
    return std::nullopt;
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.code = info.si_status;
    status.reason = ExitReason::exited;
  } else {
    status.signal = info.si_status;
    status.reason = ExitReason::signaled;
  }
  return status;
}

std::optional<ExitStatus> MainProcess::reap(std::optional<ExitStatus> known,
                                            std::chrono::milliseconds wait) const {
  if (!exists()) return known;
  wait_readable(pidfd(), Clock::now() + wait);
  if (!known) known = peek();
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(pidfd()), &info, WEXITED | WNOHANG);  // the reap itself
  return known;
}

}  // namespace cgspawn
