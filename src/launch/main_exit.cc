#include "launch/main_exit.hpp"

#include <sys/wait.h>

#include "util/deadline.hpp"

namespace cgspawn {

std::optional<ExitStatus> peek_main_exit(int pidfd, bool block) {
  siginfo_t info{};
  int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, flags) != 0 || info.si_pid == 0) return std::nullopt;
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

std::optional<ExitStatus> reap_main_exit(int pidfd, std::optional<ExitStatus> known, std::chrono::milliseconds wait) {
  wait_readable(pidfd, Clock::now() + wait);
  if (!known) known = peek_main_exit(pidfd, false);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);  // the reap itself
  return known;
}

}  // namespace cgspawn
