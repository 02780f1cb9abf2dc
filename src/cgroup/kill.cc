// SPDX-License-Identifier: MIT
#include "cgroup/kill.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <set>

#include "cgroup/events.hpp"
#include "util/proc_info.hpp"
#include "util/syscalls.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

// Describing a process is a /proc read (about 10 us). The report lists at most 100 killed
// processes (destroy.cc), so only that many are described before the kill; the rest are
// recorded by pid alone (they are still counted). Describing every process of a 1000-process
// tree delayed cgroup.kill by ~11 ms, 1.24x the kernel's own time for the whole destroy
// (bench/run.sh), and gave a fork bomb that much longer to grow.
constexpr size_t kDescribedBeforeKill = 100;

std::vector<ProcessRef> describe_all(const std::vector<pid_t>& pids) {
  std::vector<ProcessRef> out;
  out.reserve(pids.size());
  for (pid_t pid : pids)
    out.push_back(out.size() < kDescribedBeforeKill ? describe_process(pid)
                                                    : ProcessRef{static_cast<int>(pid), "", ""});
  return out;
}

UniqueFd pidfd_open(pid_t pid) {
  return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

// Pidfds of the described ones: their exits wake the wait for the cgroup to empty (events.hpp).
std::vector<UniqueFd> pin_exits(const std::vector<ProcessRef>& processes) {
  std::vector<UniqueFd> exits;
  for (size_t i = 0; i < processes.size() && i < kDescribedBeforeKill; ++i)
    if (UniqueFd fd = pidfd_open(processes[i].pid); fd.valid()) exits.push_back(std::move(fd));
  return exits;
}

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// One freeze pass: freeze, SIGKILL everything listed, thaw. Returns how many were signalled.
size_t freeze_and_kill_pass(const Cgroup& cgroup, Clock::time_point deadline,
                            std::vector<ProcessRef>& killed) {
  cgroup.write("cgroup.freeze", "1");
  wait_until_frozen(cgroup, std::min(deadline, Clock::now() + std::chrono::seconds(1)));
  auto signalled = signal_all(cgroup, SIGKILL);
  cgroup.write("cgroup.freeze", "0");
  killed.insert(killed.end(), signalled.begin(), signalled.end());
  return signalled.size();
}

KillAll freeze_and_kill(const Cgroup& cgroup, Clock::time_point deadline) {
  KillAll result{0, "freeze+SIGKILL", {}};
  while (freeze_and_kill_pass(cgroup, deadline, result.killed) > 0 && Clock::now() < deadline) {
  }
  return result;
}

}  // namespace

std::vector<ProcessRef> signal_all(const Cgroup& cgroup, int sig, std::vector<UniqueFd>* exits) {
  std::vector<std::pair<pid_t, UniqueFd>> pinned;
  for (pid_t pid : cgroup.procs_recursive()) {
    UniqueFd fd = pidfd_open(pid);
    if (fd.valid()) pinned.emplace_back(pid, std::move(fd));
  }
  auto now_in = cgroup.procs_recursive();
  std::set<pid_t> still_in(now_in.begin(), now_in.end());
  std::vector<ProcessRef> signalled;
  for (auto& [pid, fd] : pinned) {
    if (!still_in.count(pid)) continue;
    ProcessRef who = describe_process(pid);  // before the signal: a dead process has no comm
    if (pidfd_send_signal(fd.get(), sig) != 0) continue;
    signalled.push_back(std::move(who));
    // As many as are described: enough to wake the wait early, few enough that a tree of
    // thousands does not hold a descriptor per process (the next pass pins its own).
    if (exits && exits->size() < kDescribedBeforeKill) exits->push_back(std::move(fd));
  }
  return signalled;
}

KillAll kill_all(const Cgroup& cgroup, Clock::time_point deadline) {
  auto present = describe_all(cgroup.procs_recursive());
  std::vector<UniqueFd> exits = pin_exits(present);
  int err = sys::syscalls().write_cgroup_kill(cgroup.dirfd());
  if (err == 0) return KillAll{0, "cgroup.kill", std::move(present), std::move(exits)};
  if (err != ENOENT) return KillAll{err, "cgroup.kill", std::move(present), {}};
  return freeze_and_kill(cgroup, deadline);  // kernel before 5.14: no cgroup.kill
}

}  // namespace cgspawn
