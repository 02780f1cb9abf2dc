// SPDX-License-Identifier: MIT
// Owners: is the process that holds a task still the same live process?
#include <unistd.h>

#include "cgspawn/ledger.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {

bool owner_alive(const OwnerRef& owner) {
  if (owner.pid <= 0) return false;
  auto start = process_start_time(owner.pid);
  if (!start || *start != owner.start_time) return false;  // gone, or the pid was reused
  return describe_process(owner.pid).state != "Z";
}

OwnerRef self_owner(OwnerKind kind) {
  pid_t pid = ::getpid();
  return OwnerRef{static_cast<int>(pid), process_start_time(pid).value_or(0), kind};
}

}  // namespace cgspawn
