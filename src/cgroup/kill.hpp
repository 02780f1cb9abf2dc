// SPDX-License-Identifier: MIT
// Signalling every process of a cgroup tree.
#pragma once

#include <string>
#include <vector>

#include "cgroup/cgroup.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {

// Sends `sig` to every process in the cgroup tree. Each pid is pinned with a pidfd and
// re-checked to be in the tree before it is signalled, so a reused pid outside is never hit.
// Returns the processes signalled; `exits`, when given, gets their pidfds (for
// wait_until_empty).
std::vector<ProcessRef> signal_all(const Cgroup& cgroup, int sig, std::vector<UniqueFd>* exits = nullptr);

struct KillAll {
  int error = 0;                   // 0, or the errno that stopped it
  std::string method;              // "cgroup.kill" or "freeze+SIGKILL"
  std::vector<ProcessRef> killed;  // processes present when the kill was sent
  std::vector<UniqueFd> exits;     // pidfds of the first of them (for wait_until_empty)
};

// SIGKILL to every process: cgroup.kill (kernel 5.14+), or else freeze, SIGKILL each pid, thaw,
// repeated until a pass finds none or `deadline` passes.
KillAll kill_all(const Cgroup& cgroup, Clock::time_point deadline);

}  // namespace cgspawn
