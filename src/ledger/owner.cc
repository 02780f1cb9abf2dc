// SPDX-License-Identifier: MIT
// Owners: is the process that holds a task still the same live process?
#include <unistd.h>

#include "cgspawn/ledger.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {

bool owner_alive(const OwnerRef& owner) {
  if (owner.pid <= 0) return false;
  auto stat = process_stat(owner.pid);
  if (!stat || stat->start_time != owner.start_time) return false;  // gone, or the pid was reused
  return stat->state != "Z";
}

OwnerRef self_owner(OwnerKind kind) {
  // A process's start time never changes: read once per thread and pid (a fork has its own),
  // not at every spawn (/proc/PID/stat costs 9 us). A failed read is not kept.
  thread_local pid_t read_for = 0;
  thread_local unsigned long long start = 0;
  pid_t pid = ::getpid();
  if (pid != read_for) {
    std::optional<unsigned long long> read = process_start_time(pid);
    if (!read) return OwnerRef{static_cast<int>(pid), 0, kind};  // not kept: the next call reads again
    start = *read;
    read_for = pid;
  }
  return OwnerRef{static_cast<int>(pid), start, kind};
}

}  // namespace cgspawn
