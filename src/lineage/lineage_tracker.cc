// SPDX-License-Identifier: MIT
#include "lineage/lineage_tracker.hpp"

#include "util/deadline.hpp"
#include "util/pidfd.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {
namespace {

constexpr std::size_t kPendingEvents = 4096;  // reordering window (see pending_)
constexpr std::size_t kEverMax = 1'000'000;   // processes remembered per task
constexpr std::size_t kEndedTrees = 256;      // ended trees kept for a watch() still to come

bool running_now(pid_t pid) {
  UniqueFd pidfd = open_pidfd(pid);
  return pidfd.valid() && wait_readable(pidfd.get(), Clock::now()) != WaitResult::ready;
}

}  // namespace

void LineageTracker::drain() {
  if (!events_->read_queued([this](const ProcEvent& e) { on_event(e); }))
    for (auto& [root, tree] : trees_) tree.lost = true;
}

void LineageTracker::on_event(const ProcEvent& e) {
  switch (e.kind) {
    case ProcEvent::Kind::fork:
      if (parents_.count(e.parent))
        add(e.pid, e.pid);
      else if (auto it = tree_of_.find(e.parent); it != tree_of_.end())
        add(e.pid, it->second);
      else
        remember(e);
      break;
    case ProcEvent::Kind::exit:
      if (!ended(e.pid)) remember(e);
      break;
    case ProcEvent::Kind::exec:
      if (auto it = tree_of_.find(e.pid); it != tree_of_.end()) check_escape(e.pid, trees_[it->second]);
      break;
  }
}

void LineageTracker::remember(const ProcEvent& e) {
  pid_t key = e.kind == ProcEvent::Kind::fork ? e.parent : e.pid;
  pending_[key].push_back(e);
  pending_order_.push_back(key);
  if (pending_order_.size() <= kPendingEvents) return;
  auto oldest = pending_.find(pending_order_.front());
  pending_order_.pop_front();
  if (oldest == pending_.end()) return;  // replayed already
  oldest->second.erase(oldest->second.begin());
  if (oldest->second.empty()) pending_.erase(oldest);
}

void LineageTracker::add(pid_t pid, pid_t root) {
  if (tree_of_.count(pid)) return;
  Tree& tree = trees_[root];
  tree_of_[pid] = root;
  tree.live.insert(pid);
  if (tree.ever.size() < kEverMax)
    tree.ever.push_back(pid);
  else
    tree.lost = true;
  replay(pid);
}

// Events that waited for `pid` to be known: its children's forks, its own exit.
void LineageTracker::replay(pid_t pid) {
  auto waiting = pending_.find(pid);
  if (waiting == pending_.end()) return;
  std::vector<ProcEvent> now = std::move(waiting->second);
  pending_.erase(waiting);
  for (const auto& e : now) on_event(e);
}

bool LineageTracker::ended(pid_t pid) {
  auto it = tree_of_.find(pid);
  if (it == tree_of_.end()) return false;
  auto tree = trees_.find(it->second);
  tree_of_.erase(it);
  tree->second.live.erase(pid);
  if (tree->second.live.empty() && !tree->second.claimed) {
    ended_trees_.push_back(tree->first);
    if (ended_trees_.size() > kEndedTrees) {
      auto oldest = trees_.find(ended_trees_.front());
      if (oldest != trees_.end() && !oldest->second.claimed && oldest->second.live.empty())
        trees_.erase(oldest);
      ended_trees_.pop_front();
    }
  }
  return true;
}

void LineageTracker::check_escape(pid_t pid, Tree& tree) {
  if (!tree.claimed || tree.cgroup.empty() || tree.escaped.count(pid)) return;
  std::string now = escaped_to(pid, tree.cgroup);
  if (now.empty()) return;
  tree.escaped.insert(pid);
  Escape escape{pid, process_start_time(pid).value_or(0), describe_process(pid).comm, now};
  if (tree.on_escape) tree.on_escape(escape);
}

void LineageTracker::watch(pid_t main, const std::string& cgroup,
                           std::function<void(const Escape&)> on_escape, const std::vector<pid_t>& escaped) {
  drain();
  if (!trees_.count(main) && running_now(main))
    add(main, main);  // its fork was not seen: followed from now on
  for (pid_t pid : escaped)
    if (!tree_of_.count(pid) && running_now(pid)) add(pid, main);
  Tree& tree = trees_[main];
  tree.escaped.insert(escaped.begin(), escaped.end());
  tree.claimed = true;
  tree.cgroup = cgroup;
  tree.on_escape = std::move(on_escape);
  for (pid_t pid : live(main))  // moved before we watched (a copy: an escape callback may change the tree)
    check_escape(pid, tree);
}

void LineageTracker::unwatch(pid_t main) {
  auto tree = trees_.find(main);
  if (tree == trees_.end()) return;
  tree->second.claimed = false;
  tree->second.on_escape = nullptr;
  if (tree->second.live.empty()) {
    trees_.erase(tree);
    return;
  }
  tree->second.ever.clear();
}

std::vector<pid_t> LineageTracker::live(pid_t main) const {
  auto tree = trees_.find(main);
  return tree == trees_.end() ? std::vector<pid_t>{}
                              : std::vector<pid_t>(tree->second.live.begin(), tree->second.live.end());
}

std::vector<pid_t> LineageTracker::ever(pid_t main) const {
  auto tree = trees_.find(main);
  return tree == trees_.end() ? std::vector<pid_t>{} : tree->second.ever;
}

bool LineageTracker::lost(pid_t main) const {
  auto tree = trees_.find(main);
  return tree != trees_.end() && tree->second.lost;
}

}  // namespace cgspawn
