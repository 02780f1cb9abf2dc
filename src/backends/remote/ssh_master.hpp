// SPDX-License-Identifier: MIT
// One multiplexed ssh connection (ControlMaster) per host and ledger, shared by every task on
// that host and closed when none needs it. A Resource of kind ssh-master: its id is the
// control socket's path.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/remote/master_users.hpp"
#include "backends/remote/ssh_command.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::remote {

// A short socket path (sun_path is 108 bytes): <ledger>/.ssh-mux/<16 hex>, or a private dir
// in /tmp without a ledger or when the ledger's path is too long.
std::string control_path_for(const SshTarget& target, const std::string& ledger_dir);

// The pool of masters to one host: sshd refuses sessions beyond its MaxSessions (default 10)
// on one connection, so a spawn that a master refuses takes the next one. Index 0 is `first`.
constexpr int kMasterPool = 16;
std::string pooled_control_path(const std::string& first, int index);

// The pool's masters in the order a spawn tries them: those that run, the fewest sessions first
// (mux_sessions.hpp), then the places where none runs, in order.
struct PoolMaster {
  std::string control_path;
  std::optional<std::size_t> sessions;  // nullopt: no master listens there now
};
std::vector<PoolMaster> pool_by_load(const std::string& first);

// Makes sure a master answers on `control_path`, starting one if needed (serialised with a
// lock file, so concurrent spawns start one master). Throws cgspawn::Error with ssh's own
// reason (auth failure, unknown host key, unreachable) when it cannot connect.
// Returns the master's pid, and in `hold` the caller's hold on it (master_users.hpp), taken
// under the master's lock: from then on no close_master closes it under the caller.
// `persist`: its ControlPersist, should nobody close it.
int ensure_master(const SshTarget& target, const std::string& control_path, MasterHold& hold,
                  int persist = kMasterPersist);

// The pid of the master answering on `control_path`, if one does ("ssh -O check", local only).
std::optional<int> master_pid(const SshTarget& target, const std::string& control_path);

// Under the master's lock: kept while anybody else holds it (the row names them, from `users`), else
// "ssh -O exit", verified, and its socket, lock file and (empty) directory removed.
ResourceOutcome close_master(const SshTarget& target, const std::string& control_path,
                             const MasterUsers& users);

}  // namespace cgspawn::remote
