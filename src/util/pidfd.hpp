// SPDX-License-Identifier: MIT
// pidfds: a handle on one process that a reused pid can never be mistaken for.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/unique_fd.hpp"

namespace cgspawn {

// Invalid (errno set) when the process is gone or the kernel has no pidfd_open.
inline UniqueFd open_pidfd(pid_t pid) {
  return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

// 0, or -1 with errno set (ESRCH once the process has exited).
inline int signal_pidfd(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

}  // namespace cgspawn
