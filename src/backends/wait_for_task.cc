// SPDX-License-Identifier: MIT
// Waiting for a recorded task's Result from any process (`cgspawn wait`).
#include <sys/inotify.h>
#include <unistd.h>

#include "cgspawn/error.hpp"
#include "cgspawn/recorded_tasks.hpp"
#include "util/pidfd.hpp"
#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

// Record replacements are renames into the task directory: inotify says when to look again.
UniqueFd watch_task_dir(const std::string& dir) {
  UniqueFd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!fd.valid() || ::inotify_add_watch(fd.get(), dir.c_str(), IN_MOVED_TO | IN_DELETE_SELF) < 0)
    throw_sys("watch " + dir, errno);
  return fd;
}

void drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

}  // namespace

std::optional<Result> wait_for_task(const Ledger& ledger, const std::string& id, Clock::time_point deadline) {
  if (!ledger.read(id)) throw Error(ErrorKind::unknown_task, "no task \"" + id + "\" in " + ledger.dir());
  UniqueFd watch = watch_task_dir(ledger.task_dir(id));
  for (;;) {
    auto record = ledger.read(id);
    if (!record) throw Error(ErrorKind::unknown_task, "task \"" + id + "\" was destroyed while waiting");
    if (record->state == TaskState::exited && record->result) return record->result;
    if (!owner_alive(record->owner))
      throw Error(ErrorKind::system, "the owner of task \"" + id + "\" (" +
                                         std::string(to_string(record->owner.kind)) + " " +
                                         std::to_string(record->owner.pid) +
                                         ") died before the task ended; `cgspawn reap` cleans up");
    // The owner's death is not an inotify event: its pidfd says it. An owner whose pid cannot
    // be opened has just died: the next turn sees it.
    UniqueFd owner = open_pidfd(record->owner.pid);
    if (!owner_alive(record->owner)) continue;  // gone (or its pid reused) since the check above
    if (wait_readable(watch.get(), deadline, owner.get()) == WaitResult::timed_out) return std::nullopt;
    drain(watch.get());
  }
}

}  // namespace cgspawn
