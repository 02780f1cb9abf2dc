// SPDX-License-Identifier: MIT
#include "lineage/lineage.hpp"

#include <poll.h>
#include <unistd.h>

#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "cgroup/hierarchy.hpp"
#include "cgspawn/error.hpp"
#include "lineage/proc_events.hpp"
#include "util/deadline.hpp"
#include "util/file_io.hpp"
#include "util/pidfd.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {
namespace {

constexpr std::size_t kPendingEvents = 4096;  // reordering window (see State::pending)
constexpr std::size_t kEverMax = 1'000'000;   // processes remembered per task
constexpr std::size_t kEndedTrees = 256;      // ended trees kept for a watch() still to come

}  // namespace

std::string cgroup_of(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return "";
  std::size_t at = text->rfind("0::");
  if (at == std::string::npos || (at != 0 && (*text)[at - 1] != '\n')) return "";
  std::size_t end = text->find('\n', at);
  return text->substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
}

std::string cgroup_relative(const std::string& absolute) {
  static const std::string mount = discover_hierarchy().mount;
  if (absolute.empty() || absolute.rfind(mount, 0) != 0) return "";
  std::string rel = absolute.substr(mount.size());
  return rel.empty() ? "/" : rel;
}

bool inside(const std::string& cgroup, const std::string& task_cgroup) {
  if (cgroup.rfind(task_cgroup, 0) != 0) return false;
  return cgroup.size() == task_cgroup.size() || cgroup[task_cgroup.size()] == '/';
}

struct Lineage::State {
  struct Tree {
    bool claimed = false;
    std::size_t live = 0;
    std::string cgroup;
    std::function<void(const Escape&)> on_escape;
    std::unordered_set<pid_t> escaped;  // reported once each
    std::vector<pid_t> ever;
    bool lost = false;  // events dropped while the tree lived, or `ever` outgrew kEverMax
  };

  std::mutex mutex;
  std::unique_ptr<ProcEvents> events;
  pid_t self = 0;
  std::unordered_map<pid_t, pid_t> tree_of;  // live tracked process -> its tree (root pid)
  std::unordered_map<pid_t, Tree> trees;
  // Events about processes not (yet) tracked, by the pid they wait for (a fork's parent, an
  // exit's process). A fork's event is sent after the child may already run, so a grandchild's
  // fork (or the child's exit) can arrive before the child's own: the last kPendingEvents are
  // kept, and replayed when that pid becomes known. One lookup per event, whatever the host does.
  std::unordered_map<pid_t, std::vector<ProcEvent>> pending;
  std::deque<pid_t> pending_order;  // oldest first, for eviction
  // Trees nobody watches whose processes all ended: a main process that exits before spawn()
  // returns is watched after its end, and its tree (who made which SysV IPC) is still wanted.
  std::deque<pid_t> ended_trees;

  void drain() {
    if (!events->read_queued([this](const ProcEvent& e) { on_event(e); }))
      for (auto& [root, tree] : trees) tree.lost = true;
  }

  void on_event(const ProcEvent& e) {
    switch (e.kind) {
      case ProcEvent::Kind::fork:
        if (e.parent == self)
          add(e.pid, e.pid);
        else if (auto it = tree_of.find(e.parent); it != tree_of.end())
          add(e.pid, it->second);
        else
          remember(e);
        break;
      case ProcEvent::Kind::exit:
        if (!ended(e.pid)) remember(e);
        break;
      case ProcEvent::Kind::exec:
        if (auto it = tree_of.find(e.pid); it != tree_of.end()) check_escape(e.pid, trees[it->second]);
        break;
    }
  }

  void remember(const ProcEvent& e) {
    pid_t key = e.kind == ProcEvent::Kind::fork ? e.parent : e.pid;
    pending[key].push_back(e);
    pending_order.push_back(key);
    if (pending_order.size() <= kPendingEvents) return;
    auto oldest = pending.find(pending_order.front());
    pending_order.pop_front();
    if (oldest == pending.end()) return;  // replayed already
    oldest->second.erase(oldest->second.begin());
    if (oldest->second.empty()) pending.erase(oldest);
  }

  void add(pid_t pid, pid_t root) {
    if (tree_of.count(pid)) return;
    Tree& tree = trees[root];
    tree_of[pid] = root;
    ++tree.live;
    if (tree.ever.size() < kEverMax)
      tree.ever.push_back(pid);
    else
      tree.lost = true;
    replay(pid);
  }

  // Events that waited for `pid` to be known: its children's forks, its own exit.
  void replay(pid_t pid) {
    auto waiting = pending.find(pid);
    if (waiting == pending.end()) return;
    std::vector<ProcEvent> now = std::move(waiting->second);
    pending.erase(waiting);
    for (const auto& e : now) on_event(e);
  }

  bool ended(pid_t pid) {
    auto it = tree_of.find(pid);
    if (it == tree_of.end()) return false;
    auto tree = trees.find(it->second);
    tree_of.erase(it);
    if (--tree->second.live == 0 && !tree->second.claimed) {
      ended_trees.push_back(tree->first);
      if (ended_trees.size() > kEndedTrees) {
        auto oldest = trees.find(ended_trees.front());
        if (oldest != trees.end() && !oldest->second.claimed && oldest->second.live == 0) trees.erase(oldest);
        ended_trees.pop_front();
      }
    }
    return true;
  }

  void check_escape(pid_t pid, Tree& tree) {
    if (!tree.claimed || tree.cgroup.empty() || tree.escaped.count(pid)) return;
    std::string now = cgroup_of(pid);
    if (now.empty() || inside(now, tree.cgroup)) return;
    tree.escaped.insert(pid);
    Escape escape{pid, process_start_time(pid).value_or(0), describe_process(pid).comm, now};
    if (tree.on_escape) tree.on_escape(escape);
  }

  void run() {
    for (;;) {
      pollfd p{events->fd(), POLLIN, 0};
      if (::poll(&p, 1, -1) < 0) continue;
      std::lock_guard lock(mutex);
      drain();
    }
  }
};

Lineage::Lineage() : state_(std::make_shared<State>()) {
  state_->events = std::make_unique<ProcEvents>();
  state_->self = ::getpid();
  std::thread([state = state_] { state->run(); }).detach();
}

Lineage* Lineage::get(std::string* why) {
  // One per process: a forked child (the supervisor) has no thread of its parent's, so it
  // subscribes anew. The old one is left as it is: its thread lives in the parent only.
  static std::mutex mutex;
  static Lineage* tracker = nullptr;
  static pid_t owner = 0;
  static std::string refused;
  std::lock_guard lock(mutex);
  if (owner != ::getpid()) {
    owner = ::getpid();
    tracker = nullptr;
    refused.clear();
    try {
      tracker = new Lineage();  // never deleted: its thread runs until the process ends
    } catch (const Error& e) {
      refused = e.what();
    }
  }
  if (!tracker && why) *why = refused;
  return tracker;
}

Capability lineage_capability() {
  std::string why;
  if (!Lineage::get(&why)) return {false, "processes that leave the task cgroup are not found: " + why};
  return {true,
          "the kernel's process events connector: descendants found outside the task cgroup are killed "
          "and reported (escaped-process), SysV IPC its processes made is removed (ipc)"};
}

std::unique_ptr<LineageWatch> Lineage::watch(pid_t main, const std::string& cgroup,
                                             std::function<void(const Escape&)> on_escape) {
  std::lock_guard lock(state_->mutex);
  state_->drain();
  if (!state_->trees.count(main)) {  // its fork was not seen: followed from now on
    UniqueFd pidfd = open_pidfd(main);
    if (pidfd.valid() && wait_readable(pidfd.get(), Clock::now()) != WaitResult::ready)
      state_->add(main, main);
  }
  State::Tree& tree = state_->trees[main];
  tree.claimed = true;
  tree.cgroup = cgroup;
  tree.on_escape = std::move(on_escape);
  for (const auto& [pid, root] : state_->tree_of)  // moved before we watched: found now
    if (root == main) state_->check_escape(pid, tree);
  return std::make_unique<LineageWatch>(state_, main);
}

LineageWatch::~LineageWatch() {
  std::lock_guard lock(state_->mutex);
  auto tree = state_->trees.find(root_);
  if (tree == state_->trees.end()) return;
  tree->second.claimed = false;
  tree->second.on_escape = nullptr;
  if (tree->second.live == 0) {
    state_->trees.erase(tree);
    return;
  }
  tree->second.ever.clear();
}

std::vector<pid_t> LineageWatch::live() const {
  std::lock_guard lock(state_->mutex);
  state_->drain();
  std::vector<pid_t> out;
  for (const auto& [pid, root] : state_->tree_of)
    if (root == root_) out.push_back(pid);
  return out;
}

std::vector<pid_t> LineageWatch::ever() const {
  std::lock_guard lock(state_->mutex);
  state_->drain();
  auto tree = state_->trees.find(root_);
  return tree == state_->trees.end() ? std::vector<pid_t>{} : tree->second.ever;
}

std::string LineageWatch::incomplete() const {
  std::lock_guard lock(state_->mutex);
  auto tree = state_->trees.find(root_);
  if (tree != state_->trees.end() && tree->second.lost)
    return "the kernel dropped process events (a fork storm filled the buffer): processes that left "
           "the task cgroup may be missed";
  return "";
}

}  // namespace cgspawn
