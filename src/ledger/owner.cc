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
  pid_t pid = ::getpid();
  return OwnerRef{static_cast<int>(pid), process_start_time(pid).value_or(0), kind};
}

}  // namespace cgspawn
