// SPDX-License-Identifier: MIT
// Tasks bound to a process (TaskSpec::bound_to) die with it: one watcher process per bound
// process and ledger holds a pidfd on it and, when it dies, destroys every task of the ledger
// bound to it. A thousand tasks of one owner cost one watcher, not a thousand.
#pragma once

#include "cgspawn/ledger.hpp"

namespace cgspawn {

// The bound process as the record names it (pid and start time). Throws invalid_argument when
// there is no such process.
OwnerRef bound_process(int pid);

// Makes sure a watcher runs for `bound` on `ledger`: starts one (cgspawn-supervisor --watch)
// unless one holds the watch's lock file. Throws Error(system) when none can be started.
void ensure_watcher(const Ledger& ledger, const OwnerRef& bound);

// The lock file a watcher holds while it lives: <ledger>/.watch-<pid>-<start time>.
std::string watch_lock_path(const Ledger& ledger, const OwnerRef& bound);

}  // namespace cgspawn
