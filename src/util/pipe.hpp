// SPDX-License-Identifier: MIT
// Pipe: both ends of a close-on-exec pipe, each owned (closed when it goes out of scope).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {

struct Pipe {
  UniqueFd read, write;
};

// Throws Error(system) naming pipe2 and the errno.
inline Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_sys("pipe2", errno);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace cgspawn
