// SPDX-License-Identifier: MIT
// The seam between cgspawn and the calls whose failures matter most, so tests can inject them
// (clone3 refused on an old kernel, no cgroup.kill, a ledger write that fails) as fmt's
// posix-mock does.
#pragma once

#include <linux/sched.h>

#include <cstddef>

namespace cgspawn::sys {

struct Syscalls {
  // clone3 with `child(arg)` run in the child (which never returns): clone3_vfork. Returns
  // the child's pid, or -1 with errno set.
  long (*clone3)(clone_args* args, std::size_t size, void (*child)(void*), void* arg);
  int (*write_cgroup_kill)(int cgroup_dirfd);  // 0 or errno (ENOENT: no cgroup.kill)
  // The ledger's two ways of putting a record in place, as rename(2) and link(2): 0, or -1
  // with errno set. A record is replaced as by rename (an exchange of names, then an unlink:
  // syscalls.cc says why), and created by link (so that of two writers of one id exactly one
  // wins).
  int (*rename_record)(const char* from, const char* to);
  int (*link_record)(const char* from, const char* to);
};

// The table in use. Production code never changes it; tests swap entries and restore them.
Syscalls& syscalls();
const Syscalls& real_syscalls();

}  // namespace cgspawn::sys
