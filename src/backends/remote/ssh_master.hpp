// One multiplexed ssh connection (ControlMaster) per host and ledger, shared by every task on
// that host and closed when none needs it. A Resource of kind ssh-master: its id is the
// control socket's path.
#pragma once

#include <optional>
#include <string>

#include "backends/remote/ssh_command.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "util/deadline.hpp"

namespace cgspawn::remote {

// A short socket path (sun_path is 108 bytes): <ledger>/.ssh-mux/<16 hex>, or a private dir
// in /tmp without a ledger or when the ledger's path is too long.
std::string control_path_for(const SshTarget& target, const std::string& ledger_dir);

// Makes sure a master answers on `control_path`, starting one if needed (serialised with a
// lock file, so concurrent spawns start one master). Throws cgspawn::Error with ssh's own
// reason (auth failure, unknown host key, unreachable) when it cannot connect.
// Returns the master's pid.
int ensure_master(const SshTarget& target, const std::string& control_path);

// The pid of the master answering on `control_path`, if one does ("ssh -O check", local only).
std::optional<int> master_pid(const SshTarget& target, const std::string& control_path);

// Tasks of this process using a master: a task adds itself at spawn and leaves at finish.
void master_acquire(const std::string& control_path);
int master_release(const std::string& control_path);  // users left in this process

// "ssh -O exit", verified with "-O check". `users_elsewhere`: tasks of other processes still on
// it (then it is kept, and the row says for whom).
ResourceOutcome close_master(const SshTarget& target, const std::string& control_path,
                             const std::string& users_elsewhere);

}  // namespace cgspawn::remote
