// SPDX-License-Identifier: MIT
// Who needs an ssh master: the tasks of this process that took it up, and the live tasks of
// the ledger that recorded it (other cgspawn processes). A master is closed only when nobody
// else does; the question is asked under the master's lock, so no spawn takes it up meanwhile.
#pragma once

#include <string>

namespace cgspawn::remote {

struct MasterUsers {
  std::string ledger_dir;  // empty: no ledger, only this process counts
  std::string except_id;   // the task letting go of it
};

// Counts a task of this process in (called by ensure_master, under the lock) or out.
void master_taken(const std::string& control_path);
void master_let_go(const std::string& control_path);

// The others still on it, for the report ("2 other task(s) of this process", "task a, b"), or
// empty when nobody else needs it.
std::string other_master_users(const std::string& control_path, const MasterUsers& users);

}  // namespace cgspawn::remote
