// SPDX-License-Identifier: MIT
// Who needs an ssh master. Each task that uses one holds it: a shared flock on
// "<control_path>.users", taken under the master's lock (ensure_master) and kept for as long
// as the task needs the master, by the process that runs the task (its supervisor, `run`, a
// runner linking the library, `reap` while it destroys a recorded task). A master is closed
// only when nobody else holds it, asked under the master's lock, so no spawn takes it up
// meanwhile. The kernel drops a hold when its process is gone: a crashed user keeps no master
// open, and a task that has let go is never counted, however late its record says so.
//
// "Gone" is when the last thread of that process has exited: a killed supervisor whose main
// thread is already a zombie may hold on for some milliseconds more under load, through its
// other thread. A hold that no live task records and that is not this process's own is
// therefore given a moment to go (master_held_by_others) before the master is kept for it.
#pragma once

#include <chrono>
#include <string>

#include "util/unique_fd.hpp"

namespace cgspawn::remote {

struct MasterUsers {
  std::string ledger_dir;  // empty: no ledger, the holders are not named
  std::string except_id;   // the task letting go of it
  // How long a hold nobody can be named for is given to go (master_held_by_others), and what
  // it is called if it stays. A destroy's own master (destroy_master.hpp) is recorded by
  // nobody: any hold on it is another destroy's, and keeps it at once.
  std::chrono::milliseconds patience = std::chrono::seconds(2);
  std::string unnamed = "another task";
};

// One hold: the shared flock through a descriptor of its own, let go by closing it; counted in
// this process while it lasts.
class MasterHold {
 public:
  MasterHold() = default;
  MasterHold(std::string control_path, UniqueFd fd);
  MasterHold(MasterHold&& other) noexcept { *this = std::move(other); }
  MasterHold& operator=(MasterHold&& other) noexcept;
  ~MasterHold() { release(); }
  MasterHold(const MasterHold&) = delete;
  MasterHold& operator=(const MasterHold&) = delete;
  bool valid() const { return fd_.valid(); }
  void release();

 private:
  std::string control_path_;
  UniqueFd fd_;
};

// Under the master's lock: a hold on the master at `control_path` (invalid when the file
// cannot be opened: the master is then closed as if nobody held it).
MasterHold hold_master(const std::string& control_path);

// Under the master's lock, after the caller has let go of its own hold: does anybody else hold
// it? Held by another thread of this process or by a live task the ledger
// records, at once (then `users_named` names them); held by nobody it can name, only if the
// hold is still there after up to `users.patience` (a process on its way out lets go meanwhile).
bool master_held_by_others(const std::string& control_path, const MasterUsers& users,
                           std::string& users_named);

// Its file, removed with the master.
void remove_holds_file(const std::string& control_path);

}  // namespace cgspawn::remote
