// SPDX-License-Identifier: MIT
// LineageTracker: the trees of processes by descent, fed by one ProcEvents subscription. Not
// locked: its one user (a process's own tracker thread, or the ledger's lineage server) owns
// it. Each event costs one hash lookup, so the cost grows with the tasks' forks, not with
// tasks times the host's forks.
#pragma once

#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lineage/lineage.hpp"
#include "lineage/proc_events.hpp"

namespace cgspawn {

class LineageTracker {
 public:
  explicit LineageTracker(std::unique_ptr<ProcEvents> events) : events_(std::move(events)) {}

  int fd() const { return events_->fd(); }

  // A process whose children each start a tree (a spawner: its children are main processes).
  void add_parent(pid_t parent) { parents_.insert(parent); }
  void drop_parent(pid_t parent) { parents_.erase(parent); }

  // Reads every event queued so far.
  void drain();

  // Follows the tree of `main` (see Lineage::watch); until unwatch(main). `escaped`: processes
  // of the tree found outside its cgroup before (by a server that ended), followed again and
  // not reported again.
  void watch(pid_t main, const std::string& cgroup, std::function<void(const Escape&)> on_escape,
             const std::vector<pid_t>& escaped = {});
  void unwatch(pid_t main);

  std::vector<pid_t> live(pid_t main) const;
  std::vector<pid_t> ever(pid_t main) const;
  // Whether events the tree's processes caused may be missing (dropped, or `ever` too long).
  bool lost(pid_t main) const;

 private:
  struct Tree {
    bool claimed = false;
    // Its live processes: live() at each destroy is then the tree's size, not the number of
    // processes every task has (a destroy of a thousand tasks had asked the server a
    // thousand times to go through all of them).
    std::unordered_set<pid_t> live;
    std::string cgroup;
    std::function<void(const Escape&)> on_escape;
    std::unordered_set<pid_t> escaped;  // reported once each
    std::vector<pid_t> ever;
    bool lost = false;  // events dropped while the tree lived, or `ever` outgrew its bound
  };

  void on_event(const ProcEvent& e);
  void remember(const ProcEvent& e);
  void add(pid_t pid, pid_t root);
  void replay(pid_t pid);
  bool ended(pid_t pid);
  void check_escape(pid_t pid, Tree& tree);

  std::unique_ptr<ProcEvents> events_;
  std::unordered_set<pid_t> parents_;
  std::unordered_map<pid_t, pid_t> tree_of_;  // live tracked process -> its tree (root pid)
  std::unordered_map<pid_t, Tree> trees_;
  // Events about processes not (yet) tracked, by the pid they wait for (a fork's parent, an
  // exit's process). A fork's event is sent after the child may already run, so a grandchild's
  // fork (or the child's exit) can arrive before the child's own: the last few thousand are
  // kept, and replayed when that pid becomes known. One lookup per event, whatever the host does.
  std::unordered_map<pid_t, std::vector<ProcEvent>> pending_;
  std::deque<pid_t> pending_order_;  // oldest first, for eviction
  // Trees nobody watches whose processes all ended: a main process that exits before spawn()
  // returns is watched after its end, and its tree (who made which SysV IPC) is still wanted.
  std::deque<pid_t> ended_trees_;
};

}  // namespace cgspawn
