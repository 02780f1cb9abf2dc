// SPDX-License-Identifier: MIT
// Who needs an ssh master. Each task that uses one holds it: a shared flock on
// "<control_path>.users", taken under the master's lock (ensure_master) and kept for as long
// as the task needs the master, by the process that runs the task (its supervisor, `run`, a
// runner linking the library, `reap` while it destroys a recorded task). A master is closed
// only when nobody else holds it, asked under the master's lock, so no spawn takes it up
// meanwhile. The kernel drops a hold when its process dies: a crashed user keeps no master
// open, and a task that has let go is never counted, however late its record says so.
#pragma once

#include <string>

#include "util/unique_fd.hpp"

namespace cgspawn::remote {

// Under the master's lock: a hold on the master at `control_path` (invalid when the file
// cannot be opened: the master is then closed as if nobody held it).
UniqueFd hold_master(const std::string& control_path);

// Under the master's lock, after the caller has let go of its own hold: does anybody hold it?
bool master_held(const std::string& control_path);

// Its file, removed with the master.
void remove_holds_file(const std::string& control_path);

struct MasterUsers {
  std::string ledger_dir;  // empty: no ledger, the holders are not named
  std::string except_id;   // the task letting go of it
};

// For the report of a master kept open: the live tasks of the ledger that recorded it ("task
// a, b"), or "another task" when none is recorded yet.
std::string name_master_users(const std::string& control_path, const MasterUsers& users);

}  // namespace cgspawn::remote
