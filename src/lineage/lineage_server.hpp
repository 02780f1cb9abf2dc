// SPDX-License-Identifier: MIT
// The lineage server of one ledger: one subscription to the kernel's process events for every
// supervisor of that ledger. A subscription per supervisor made every fork on the host wake
// every supervisor (a thousand tasks: a thousand wake-ups per fork, the host's CPUs saturated);
// here each event costs one wake-up and one lookup, whatever the number of tasks.
//
// Started by the first supervisor that finds none (a flock on lineage_lock_path() says which;
// the starter binds the socket before the server runs, so a client never finds the lock held
// and nobody listening for long), in the background like a supervisor; it ends when its last
// client has gone. Each client's children start trees, as a spawning process's do for its own
// subscription. A client that finds the server gone starts another and says the task's lineage
// may be incomplete; a client that dies is dropped with its trees.
#pragma once

#include <string>

namespace cgspawn {

// Serves until no client is left (or none came within a few seconds). `lock_fd` holds the
// flock on lineage_lock_path(ledger_dir), `listen_fd` listens on lineage_socket_path().
int run_lineage_server(const std::string& ledger_dir, int lock_fd, int listen_fd);

}  // namespace cgspawn
