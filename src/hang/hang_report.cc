// SPDX-License-Identifier: MIT
#include "hang/hang_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "cgroup/events.hpp"
#include "cgspawn/parse.hpp"
#include "hang/hung_process.hpp"
#include "util/proc_info.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

using Lister = std::function<std::vector<pid_t>()>;

std::vector<pid_t> first_listed(std::vector<pid_t> pids) {
  std::sort(pids.begin(), pids.end());
  if (pids.size() > kHungProcessesListed) pids.resize(kHungProcessesListed);
  return pids;
}

// Phase one, while everything runs: each thread's kernel wait and each process's state (only
// its stat: the rest is read once, in phase two).
struct BeforeFreeze {
  std::map<pid_t, std::vector<HungThread>> threads;
  std::map<pid_t, std::string> state;
};

BeforeFreeze read_waits(const Lister& list) {
  BeforeFreeze before;
  for (pid_t pid : first_listed(list())) {
    before.threads[pid] = read_hung_threads(pid);
    if (auto stat = process_stat(pid)) before.state[pid] = stat->state;
  }
  return before;
}

// Phase two, the list as it is now (frozen where it could be).
void describe_listed(const Lister& list, BeforeFreeze& before, HangReport& report) {
  std::vector<pid_t> all = list();
  std::vector<pid_t> listed = first_listed(all);
  for (pid_t pid : listed) {
    std::optional<HungProcess> p = read_hung_process(pid);
    if (!p) continue;  // exited meanwhile (the list was not frozen)
    auto seen = before.threads.find(pid);
    p->after_freeze = seen == before.threads.end();
    p->threads = p->after_freeze ? read_hung_threads(pid) : std::move(seen->second);
    if (!p->after_freeze && before.state.count(pid)) p->state = before.state[pid];
    report.processes.push_back(std::move(*p));
  }
  report.left_out = all.size() - listed.size();
}

// Freezes the cgroup for phase two. Returns whether cgspawn must thaw it after (a cgroup its
// user had frozen stays frozen).
bool freeze(const Cgroup& cgroup, HangReport& report) {
  if (cgroup.read("cgroup.freeze").value_or("0").rfind('1', 0) == 0) {
    report.frozen = true;
    return false;
  }
  if (int err = cgroup.write("cgroup.freeze", "1")) {
    report.note = "not frozen: " + sys_message("write cgroup.freeze of " + cgroup.path(), err);
    return false;
  }
  report.frozen = wait_until_frozen(cgroup, Clock::now() + kFreezeBound) == WaitResult::ready;
  if (!report.frozen)
    report.note =
        "not frozen within " + format_seconds(std::chrono::duration<double>(kFreezeBound).count()) +
        " (a process in an uninterruptible wait does not stop): the list may have changed while it was read";
  return true;
}

}  // namespace

HangReport take_hang_report(const Cgroup& cgroup, pid_t spare) {
  Lister list = [&cgroup, spare] {
    std::vector<pid_t> pids = cgroup.procs_recursive();
    pids.erase(std::remove(pids.begin(), pids.end(), spare), pids.end());
    return pids;
  };
  BeforeFreeze before = read_waits(list);
  HangReport report;
  bool thaw = freeze(cgroup, report);
  describe_listed(list, before, report);
  if (thaw) cgroup.write("cgroup.freeze", "0");
  return report;
}

Capability hang_report_capability(bool frozen, const std::string& where) {
  std::string how = frozen ? "each thread's kernel wait read, then the cgroup frozen (cgroup.freeze) for a "
                             "consistent snapshot, then thawed for the grace"
                           : "each process read as it runs, not frozen";
  return {true, how + (where.empty() ? "" : " (" + where + ")") +
                    (::geteuid() == 0 ? "" : "; kernel stacks need root: not read")};
}

HangReport take_hang_report(const Lister& processes, const std::string& why) {
  BeforeFreeze before = read_waits(processes);
  HangReport report;
  report.note = why;
  describe_listed(processes, before, report);
  return report;
}

}  // namespace cgspawn
