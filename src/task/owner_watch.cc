// SPDX-License-Identifier: MIT
#include "task/owner_watch.hpp"

#include <unistd.h>

#include "cgspawn/error.hpp"
#include "launch/detached.hpp"
#include "util/lock_file.hpp"
#include "util/proc_info.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {

OwnerRef bound_process(int pid) {
  auto start = pid > 0 ? process_start_time(pid) : std::nullopt;
  if (!start)
    throw Error(ErrorKind::invalid_argument, "bound to process " + std::to_string(pid) + ": no such process");
  return OwnerRef{pid, *start, OwnerKind::library};
}

std::string watch_lock_path(const Ledger& ledger, const OwnerRef& bound) {
  return ledger.dir() + "/.watch-" + std::to_string(bound.pid) + "-" + std::to_string(bound.start_time);
}

// The lock is taken here and handed to the watcher with its fd (a flock belongs to the open
// file, which the watcher then holds): no moment without a holder, so of two spawns at once
// exactly one starts a watcher.
void ensure_watcher(const Ledger& ledger, const OwnerRef& bound) {
  UniqueFd lock = try_lock_file(watch_lock_path(ledger, bound));
  if (!lock.valid()) return;  // a watcher holds it
  start_detached({"--watch", ledger.dir(), std::to_string(bound.pid), std::to_string(bound.start_time)},
                 {{lock.get(), 3}});
}

}  // namespace cgspawn
