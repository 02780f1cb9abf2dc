// SPDX-License-Identifier: MIT
// Lineage: a task's processes by descent, whichever cgroup they moved to, from the kernel's
// process events (ProcEvents). A process that spawns tasks itself (the library's user, `cgspawn
// run`) has one subscription and one thread for all its tasks. Supervisors (one per started
// task) share their ledger's lineage server instead (lineage_server.hpp): a subscription per
// supervisor would wake every supervisor on every fork of the host. Trees start at the
// spawning process's children: a task's tree is followed from its main process's first fork
// on, before spawn() even returns.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cgspawn/capabilities.hpp"

namespace cgspawn {

// A descendant seen outside its task's cgroup.
struct Escape {
  pid_t pid = 0;
  unsigned long long start_time = 0;  // with the pid, names the process for good
  std::string comm;
  std::string cgroup;  // where it is now, as /proc/PID/cgroup names it
};

class LineageWatch;

// What a task's lineage says, asked at once (LineageWatch::state()).
struct LineageState {
  std::vector<pid_t> live;
  std::vector<pid_t> ever;
  std::string incomplete;
};

class Lineage {
 public:
  virtual ~Lineage() = default;

  // The tracker of this process, subscribed (or connected to its ledger's server) on first
  // use. Call it before starting a task's main process. nullptr when this host or user cannot
  // have one; `why` then says why.
  static Lineage* get(std::string* why = nullptr);

  // From now on, get() in this process is a client of the lineage server of the ledger in
  // `ledger_dir` (started when none runs) rather than a subscription of its own. For
  // supervisors; not for a non-root user, who cannot subscribe anyway.
  static void share_through(const std::string& ledger_dir);

  // Follows the tree of `main`, a child this process started after get(). `cgroup`: the task
  // cgroup as /proc/PID/cgroup names it (empty: the task has none). `on_escape` is called, from
  // the tracker's thread and once per process, for a descendant found outside that cgroup
  // when it execs (or already outside now).
  virtual std::unique_ptr<LineageWatch> watch(pid_t main, const std::string& cgroup,
                                              std::function<void(const Escape&)> on_escape) = 0;
};

class LineageWatch {
 public:
  virtual ~LineageWatch() = default;  // stops following

  // The task's processes alive now (every event queued so far read first).
  virtual std::vector<pid_t> live() const = 0;
  // Every process the task ever had, alive or not (SysV IPC names its creator by pid).
  virtual std::vector<pid_t> ever() const = 0;
  // Why what live() and ever() say may be incomplete (the kernel dropped events, the tree
  // outgrew what is kept, the lineage server was lost); empty when it is complete.
  virtual std::string incomplete() const = 0;
  // The three at once: one request where a lineage server answers them (a destroy asks all
  // three, once per task, and the server serves every supervisor of its ledger).
  virtual LineageState state() const { return {live(), ever(), incomplete()}; }
};

// incomplete()'s words for events the kernel dropped.
extern const char* const kLostEventsNote;

// Whether this process can follow its tasks by descent here, and how or why not (for
// `cgspawn backends`). Subscribes, as get() does.
Capability lineage_capability();

// The cgroup of `pid` as /proc/PID/cgroup names it on the cgroup2 line ("" when gone; a dead
// process's removed cgroup without the kernel's " (deleted)").
std::string cgroup_of(pid_t pid);
// An absolute cgroup2 path (/sys/fs/cgroup/...) as /proc/PID/cgroup names it.
std::string cgroup_relative(const std::string& absolute);
// Whether `cgroup` is `task_cgroup` or below it.
bool inside(const std::string& cgroup, const std::string& task_cgroup);
// The cgroup of `pid` when it is outside `task_cgroup`: an escape. "" when it is inside, gone,
// or still being forked (not yet placed in any cgroup: see lineage.cc).
std::string escaped_to(pid_t pid, const std::string& task_cgroup);

}  // namespace cgspawn
