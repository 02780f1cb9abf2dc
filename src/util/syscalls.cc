// SPDX-License-Identifier: MIT
#include "util/syscalls.hpp"

#include <fcntl.h>
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

// rename(2)'s result, reached by exchanging the two names and unlinking the old file after:
// ext4 (auto_da_alloc, its default) starts writing a file's data back when it is renamed over
// another, 0.17 ms and a disk write per record change on these hosts, and not on an exchange.
// A reader still sees the old record or the new one. The flush guards against a power loss
// that a record not made durable is not promised to survive (its tasks do not survive it
// either); a durable one is fsynced before and its directory after. A crash between the two
// steps leaves the old record under the temporary name, which no reader reads and the task's
// removal removes. Where there is no target yet, or the filesystem cannot exchange, a rename.
int real_rename(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) == 0) {
    ::unlink(from);
    return 0;
  }
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
