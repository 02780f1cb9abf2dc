// SPDX-License-Identifier: MIT
// cgspawn's own helper program (cgspawn-supervisor), started detached from its caller: the
// supervisor of a started task, the watcher of a process tasks are bound to, and a ledger's
// lineage server.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cgspawn {

// $CGSPAWN_SUPERVISOR, else cgspawn-supervisor next to the running program (the build tree,
// an installed CLI), else the installed one (libexecdir).
std::string helper_program();

// Runs helper_program() with `args`, detached: forked twice (reparented away from the caller),
// in a session of its own, stdio on /dev/null except `fds` ({caller's fd, the helper's fd}).
// Returns once the first child has exited; the helper runs on. Throws Error(system) when it
// cannot fork.
void start_detached(const std::vector<std::string>& args, const std::vector<std::pair<int, int>>& fds);

}  // namespace cgspawn
