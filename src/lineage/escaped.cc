// SPDX-License-Identifier: MIT
#include "lineage/escaped.hpp"

#include <signal.h>

#include <algorithm>
#include <map>
#include <set>

#include "report/rows.hpp"
#include "util/deadline.hpp"
#include "util/pidfd.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {
namespace {

std::string where(const std::string& comm, const std::string& cgroup) {
  return (comm.empty() ? "a process" : comm) + " in " + (cgroup.empty() ? "an unknown cgroup" : cgroup);
}

struct Pinned {
  UniqueFd fd;
  ProcessRef ref;
  std::string cgroup;
};

// Pins each of `live` outside `task_cgroup` with a pidfd, then reads the events again: a pid
// whose exit came meanwhile may be reused, and is let go.
// Ones in `done` were handled in an earlier pass; one that has exited (a zombie whose exit event
// was lost) is no leftover.
std::map<pid_t, Pinned> pin_escaped(const LineageWatch& lineage, const std::vector<pid_t>& live,
                                    const std::string& task_cgroup, const std::set<pid_t>& done = {}) {
  std::map<pid_t, Pinned> pinned;
  for (pid_t pid : live) {
    if (done.count(pid)) continue;
    std::string cgroup = task_cgroup.empty() ? cgroup_of(pid) : escaped_to(pid, task_cgroup);
    if (!task_cgroup.empty() && cgroup.empty()) continue;  // the boundary's own row, or gone
    UniqueFd fd = open_pidfd(pid);
    if (fd.valid() && wait_readable(fd.get(), Clock::now()) != WaitResult::ready)
      pinned[pid] = {std::move(fd), describe_process(pid), cgroup};
  }
  if (pinned.empty()) return pinned;  // nothing to check again (one round trip to the lineage server)
  auto still = lineage.live();
  for (auto it = pinned.begin(); it != pinned.end();)
    it = std::find(still.begin(), still.end(), it->first) == still.end() ? pinned.erase(it) : std::next(it);
  return pinned;
}

ResourceOutcome row_for(const Pinned& p, Outcome outcome, const std::string& what) {
  ResourceOutcome row = make_row({ResourceKind::escaped_process, std::to_string(p.ref.pid)}, outcome,
                                 where(p.ref.comm, p.cgroup) + what);
  if (outcome == Outcome::destroyed) {
    row.killed.push_back(p.ref);
    row.killed_total = 1;
  } else if (outcome == Outcome::failed) {
    row.survivors.push_back(describe_survivor(p.ref.pid));
  }
  return row;
}

}  // namespace

ResourceRecord escape_record(const Escape& e) {
  return {{ResourceKind::escaped_process, std::to_string(e.pid)},
          ResourceState::created,
          {{"pid", std::to_string(e.pid)},
           {"start_time", std::to_string(e.start_time)},
           {"comm", e.comm},
           {"cgroup", e.cgroup}}};
}

std::vector<ResourceOutcome> destroy_escaped(const LineageWatch& lineage, std::vector<pid_t> live,
                                             const std::string& task_cgroup, bool kill,
                                             Clock::time_point deadline) {
  std::vector<ResourceOutcome> rows;
  if (!kill) {
    for (auto& [pid, p] : pin_escaped(lineage, live, task_cgroup))
      rows.push_back(row_for(p, Outcome::kept, ": left running (--on-leftovers report)"));
    return rows;
  }
  // Killed ones may have forked before they died: their children are found in the next pass.
  std::set<pid_t> done;
  for (bool first = true;; first = false) {
    auto start = Clock::now();
    auto pinned = pin_escaped(lineage, first ? live : lineage.live(), task_cgroup, done);
    if (pinned.empty()) break;
    for (auto& [pid, p] : pinned) signal_pidfd(p.fd.get(), SIGKILL);
    for (auto& [pid, p] : pinned) {
      done.insert(pid);
      bool gone = wait_readable(p.fd.get(), deadline) == WaitResult::ready;
      ResourceOutcome row =
          row_for(p, gone ? Outcome::destroyed : Outcome::failed,
                  gone ? ": left the task cgroup; killed" : ": left the task cgroup; still alive");
      row.seconds = seconds_between(start, Clock::now());
      rows.push_back(std::move(row));
    }
    if (Clock::now() >= deadline) break;
  }
  return rows;
}

ResourceOutcome destroy_recorded_escape(const ResourceRecord& res, const DestroyOptions& options) {
  pid_t pid = 0;
  unsigned long long start = 0;
  try {
    pid = std::stoi(res.attribute("pid"));
    start = std::stoull(res.attribute("start_time"));
  } catch (const std::exception&) {
    return make_row(res.resource, Outcome::not_guaranteed, "its record names no pid and start time");
  }
  UniqueFd fd = open_pinned_pidfd(pid, start);
  if (!fd.valid())
    return make_row(res.resource, Outcome::already_gone,
                    where(res.attribute("comm"), res.attribute("cgroup")) + ": gone before");
  Pinned p{std::move(fd), describe_process(pid), cgroup_of(pid)};
  signal_pidfd(p.fd.get(), SIGKILL);
  bool gone = wait_readable(p.fd.get(), Clock::now() + options.verify_timeout) == WaitResult::ready;
  return row_for(p, gone ? Outcome::destroyed : Outcome::failed, gone ? ": killed" : ": still alive");
}

}  // namespace cgspawn
