// SPDX-License-Identifier: MIT
#include "util/syscalls.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "util/clone3_vfork.hpp"
#include "util/file_io.hpp"

namespace cgspawn::sys {
namespace {

int real_write_cgroup_kill(int dirfd) {
  return write_file_at(dirfd, "cgroup.kill", "1");
}

int real_rename(const char* from, const char* to) {
  return std::rename(from, to);
}

int real_link(const char* from, const char* to) {
  return ::link(from, to);
}

}  // namespace

const Syscalls& real_syscalls() {
  static const Syscalls table{clone3_vfork, real_write_cgroup_kill, real_rename, real_link};
  return table;
}

Syscalls& syscalls() {
  static Syscalls table = real_syscalls();
  return table;
}

}  // namespace cgspawn::sys
