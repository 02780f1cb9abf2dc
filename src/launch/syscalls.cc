#include "launch/syscalls.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include "util/file_io.hpp"

namespace cgspawn::sys {
namespace {

long real_clone3(clone_args* args, std::size_t size) { return ::syscall(SYS_clone3, args, size); }

int real_write_cgroup_kill(int dirfd) { return write_file_at(dirfd, "cgroup.kill", "1"); }

}  // namespace

const Syscalls& real_syscalls() {
  static const Syscalls table{real_clone3, real_write_cgroup_kill};
  return table;
}

Syscalls& syscalls() {
  static Syscalls table = real_syscalls();
  return table;
}

}  // namespace cgspawn::sys
