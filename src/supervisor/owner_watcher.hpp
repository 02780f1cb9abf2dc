// SPDX-License-Identifier: MIT
// The watcher's side of task/owner_watch.hpp, run by cgspawn-supervisor --watch.
#pragma once

#include <string>

namespace cgspawn {

// Waits until process `pid` (started at `start_time`) is gone, destroys every task of the
// ledger at `ledger_dir` bound to it, removes the watch's lock file (held on `lock_fd`).
// Returns the program's exit status.
int run_owner_watcher(const std::string& ledger_dir, int pid, unsigned long long start_time, int lock_fd);

}  // namespace cgspawn
