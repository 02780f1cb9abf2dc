// SPDX-License-Identifier: MIT
// The watcher of one process that tasks are bound to (task/owner_watch.hpp): it waits on the
// process's pidfd, no polling, and when the process is gone destroys every task of the ledger
// bound to it, at once and side by side, then goes.
#include "supervisor/owner_watcher.hpp"

#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <set>
#include <thread>

#include "cgspawn/recorded_tasks.hpp"
#include "task/owner_watch.hpp"
#include "util/deadline.hpp"
#include "util/pidfd.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {
namespace {

bool bound_to(const TaskRecord& record, const OwnerRef& owner) {
  return record.bound_to && record.bound_to->pid == owner.pid &&
         record.bound_to->start_time == owner.start_time;
}

// Destroys the bound tasks found now and not tried before (`tried`), each in a thread of its
// own (one destroy's grace must not wait for another's). Returns how many there were.
size_t destroy_bound(const Ledger& ledger, const OwnerRef& owner, std::set<std::string>& tried) {
  DestroyOptions options;
  options.grace = std::chrono::seconds(1);
  options.owner_gone = true;
  std::vector<std::future<void>> running;
  for (const auto& record : ledger.list().tasks) {
    if (!bound_to(record, owner) || !tried.insert(record.id).second) continue;
    std::string id = record.id;
    running.push_back(std::async(std::launch::async, [&ledger, id, options] {
      try {
        destroy_task(ledger, id, options);
      } catch (const std::exception&) {
        // gone meanwhile (destroyed by another caller), or unreadable: reap reports it
      }
    }));
  }
  for (auto& r : running) r.wait();
  return running.size();
}

// Waits until the process is gone: its pidfd becomes readable when it exits.
void wait_for_exit(const OwnerRef& owner) {
  UniqueFd pidfd = open_pidfd(owner.pid);
  if (!pidfd.valid() || !owner_alive(owner)) return;  // gone already (or its pid reused)
  wait_readable(pidfd.get(), Clock::time_point::max());
}

}  // namespace

int run_owner_watcher(const std::string& ledger_dir, int pid, unsigned long long start_time, int lock_fd) {
  OwnerRef owner{pid, start_time, OwnerKind::library};
  wait_for_exit(owner);
  // A ledger removed meanwhile holds no task to destroy, and opening it would make it again.
  if (::access(ledger_dir.c_str(), F_OK) != 0 && errno == ENOENT) return 0;
  try {
    Ledger ledger(ledger_dir);
    // A spawn that recorded its task just before the process died, and read it alive, is seen
    // by a later look: look again until one finds nothing.
    std::set<std::string> tried;
    while (destroy_bound(ledger, owner, tried) > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::unlink(watch_lock_path(ledger, owner).c_str());
  } catch (const std::exception&) {
    return 1;  // the ledger is gone: nothing left to destroy through it
  }
  ::close(lock_fd);
  return 0;
}

}  // namespace cgspawn
