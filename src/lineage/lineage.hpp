// SPDX-License-Identifier: MIT
// Lineage: a task's processes by descent, whichever cgroup they moved to. One subscription to
// the kernel's process events (ProcEvents) and one thread serve every task of this process:
// each event costs one hash lookup, so the cost grows with the tasks' forks, not with tasks
// times the host's forks. Trees start at this process's children: a task's tree is followed
// from its main process's first fork on, before spawn() even returns.
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

class Lineage {
 public:
  // The tracker of this process, subscribed on first use. Call it before starting a task's
  // main process. nullptr when this host or user cannot have one; `why` then says why.
  static Lineage* get(std::string* why = nullptr);

  // Follows the tree of `main`, a child this process started after get(). `cgroup`: the task
  // cgroup as /proc/PID/cgroup names it (empty: the task has none). `on_escape` is called, from
  // the tracker's thread and once per process, for a descendant found outside that cgroup
  // when it execs (or already outside now).
  std::unique_ptr<LineageWatch> watch(pid_t main, const std::string& cgroup,
                                      std::function<void(const Escape&)> on_escape);

  struct State;  // lineage.cc

 private:
  Lineage();
  std::shared_ptr<State> state_;
};

class LineageWatch {
 public:
  LineageWatch(std::shared_ptr<Lineage::State> state, pid_t root) : state_(std::move(state)), root_(root) {}
  ~LineageWatch();  // stops following
  LineageWatch(const LineageWatch&) = delete;
  LineageWatch& operator=(const LineageWatch&) = delete;

  // The task's processes alive now (every event queued so far read first).
  std::vector<pid_t> live() const;
  // Every process the task ever had, alive or not (SysV IPC names its creator by pid).
  std::vector<pid_t> ever() const;
  // Why what live() and ever() say may be incomplete (the kernel dropped events, or the tree
  // outgrew what is kept); empty when it is complete.
  std::string incomplete() const;

 private:
  std::shared_ptr<Lineage::State> state_;
  pid_t root_;
};

// Whether this process can follow its tasks by descent here, and how or why not (for
// `cgspawn backends`). Subscribes, as get() does.
Capability lineage_capability();

// The cgroup of `pid` as /proc/PID/cgroup names it on the cgroup2 line ("" when gone).
std::string cgroup_of(pid_t pid);
// An absolute cgroup2 path (/sys/fs/cgroup/...) as /proc/PID/cgroup names it.
std::string cgroup_relative(const std::string& absolute);
// Whether `cgroup` is `task_cgroup` or below it.
bool inside(const std::string& cgroup, const std::string& task_cgroup);

}  // namespace cgspawn
