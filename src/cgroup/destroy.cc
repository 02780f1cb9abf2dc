// SPDX-License-Identifier: MIT
#include "cgroup/destroy.hpp"

#include <csignal>
#include <set>

#include "cgroup/events.hpp"
#include "cgroup/kill.hpp"
#include "cgspawn/parse.hpp"
#include "util/file_io.hpp"
#include "util/proc_info.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

constexpr size_t kMaxListed = 100;

// Collects the processes destroy had to kill, each pid once, the list capped.
class KilledList {
 public:
  void add(const std::vector<ProcessRef>& processes) {
    for (const auto& p : processes) {
      if (!seen_.insert(p.pid).second) continue;
      if (listed_.size() < kMaxListed) listed_.push_back(ProcessRef{p.pid, p.comm, ""});
    }
  }
  void move_into(ResourceOutcome& row) {
    row.killed_total = seen_.size();
    row.killed = std::move(listed_);
  }

 private:
  std::set<int> seen_;
  std::vector<ProcessRef> listed_;
};

std::vector<ProcessRef> survivors_of(const Cgroup& cgroup) {
  std::vector<ProcessRef> out;
  for (pid_t pid : cgroup.procs_recursive()) {
    if (out.size() == kMaxListed) break;
    out.push_back(describe_survivor(pid));
  }
  return out;
}

// SIGTERM (and SIGCONT, so stopped processes can act on it) to all, then the grace period.
bool terminate_gracefully(const Cgroup& cgroup, const DestroyOptions& options, KilledList& killed) {
  std::vector<UniqueFd> exits;
  killed.add(signal_all(cgroup, SIGTERM, &exits));
  signal_all(cgroup, SIGCONT);
  auto r = wait_until_empty(cgroup, Clock::now() + options.grace, options.interrupt_fd, exits);
  return r == WaitResult::interrupted;
}

void finish_row(const Cgroup& cgroup, ResourceOutcome& row,
                const std::function<void(const Cgroup&)>& before_remove, bool remove,
                Clock::time_point deadline) {
  if (before_remove) before_remove(cgroup);
  if (!remove) {
    row.outcome = Outcome::destroyed;
    return;
  }
  std::string failed_path;
  int err = cgroup.remove_tree(std::max(deadline, Clock::now() + std::chrono::seconds(1)), &failed_path);
  if (err == 0) {
    row.outcome = Outcome::destroyed;
    return;
  }
  row.outcome = Outcome::failed;
  row.detail = "empty, but " + sys_message("rmdir " + failed_path, err);
}

}  // namespace

CgroupDestroyResult destroy_cgroup(const Cgroup& cgroup, const DestroyOptions& options,
                                   const std::function<void(const Cgroup&)>& before_remove, bool remove) {
  auto start = Clock::now();
  CgroupDestroyResult result;
  ResourceOutcome& row = result.row;
  row.resource = Resource{ResourceKind::cgroup, cgroup.path()};
  KilledList killed;
  auto events = cgroup.read("cgroup.events");
  if (!events) {
    row.outcome = Outcome::already_gone;
    row.detail = "the cgroup was removed before cgspawn acted";
    return result;
  }
  // The common case, a task whose processes all exited, costs this one read and the rmdir.
  bool populated = keyed_value(*events, "populated").value_or(0) != 0;
  if (populated && options.grace.count() > 0) {
    result.interrupted = terminate_gracefully(cgroup, options, killed);
    populated = cgroup.populated();
  }
  auto verify_deadline = Clock::now() + options.verify_timeout;
  if (populated) {
    KillAll kill = kill_all(cgroup, verify_deadline);
    killed.add(kill.killed);
    if (kill.error) row.detail = sys_message(kill.method + " on " + cgroup.path(), kill.error);
    populated = wait_until_empty(cgroup, verify_deadline, -1, kill.exits) != WaitResult::ready;
  }
  if (populated) {
    row.outcome = Outcome::failed;
    row.survivors = survivors_of(cgroup);
    if (!row.detail.empty()) row.detail += "; ";
    row.detail += std::to_string(cgroup.procs_recursive().size()) + " process(es) still in " + cgroup.path() +
                  " " + format_seconds(seconds_between(start, Clock::now())) + " after destroy began";
  } else {
    finish_row(cgroup, row, before_remove, remove, verify_deadline);
  }
  killed.move_into(row);
  row.seconds = seconds_between(start, Clock::now());
  return result;
}

}  // namespace cgspawn
