// SPDX-License-Identifier: MIT
// The masters a destroy borrows when its task's master has no session slot left (sshd's
// MaxSessions, counted per connection, is full of the tasks' own sessions): "<first>-kN",
// used only by destroys' sessions (no spawn takes them up, no record names them), each held by
// its destroy while that session runs and closed by the last destroy that lets go of it. Before
// them, every destroy on a full master opened an ssh connection of its own (a key exchange and
// an sshd): 97 of the 100 destroys of a `destroy --label` of 100 tasks on 10 full masters.
#pragma once

#include <string>

#include "backends/remote/master_users.hpp"
#include "backends/remote/ssh_command.hpp"
#include "cgspawn/cleanup_report.hpp"

namespace cgspawn::remote {

// Should its destroy die on the way, the master goes by itself after this many idle seconds
// (its session ends with the destroy's ssh, whose agent reads EOF).
inline constexpr int kDestroyMasterPersist = 10;

// The N-th destroy master of the pool whose first master is `first` (ssh_master.hpp).
std::string destroy_master_path(const std::string& first, int index);

struct BorrowedMaster {
  std::string control_path;  // empty: none borrowed
  MasterHold hold;
};

// The destroy master at `control_path`, held (started if none runs). Throws cgspawn::Error as
// ensure_master does (the host cannot be reached).
BorrowedMaster borrow_destroy_master(const SshTarget& target, const std::string& control_path);

// Lets go of it, and closes it unless another destroy holds it: its row (ssh-master).
ResourceOutcome return_destroy_master(const SshTarget& target, BorrowedMaster& master);

}  // namespace cgspawn::remote
