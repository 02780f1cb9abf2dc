// The seam between cgspawn and the kernel calls whose failures matter most, so tests can
// inject them (clone3 refused on an old kernel, no cgroup.kill) as fmt's posix-mock does.
#pragma once

#include <linux/sched.h>

#include <cstddef>

namespace cgspawn::sys {

struct Syscalls {
  long (*clone3)(clone_args* args, std::size_t size);  // returns as the syscall, errno set
  int (*write_cgroup_kill)(int cgroup_dirfd);         // 0 or errno (ENOENT: no cgroup.kill)
};

// The table in use. Production code never changes it; tests swap entries and restore them.
Syscalls& syscalls();
const Syscalls& real_syscalls();

}  // namespace cgspawn::sys
