// SPDX-License-Identifier: MIT
#include "backends/remote/destroy_master.hpp"

#include "backends/remote/ssh_master.hpp"

namespace cgspawn::remote {

std::string destroy_master_path(const std::string& first, int index) {
  return first + "-k" + std::to_string(index);
}

BorrowedMaster borrow_destroy_master(const SshTarget& target, const std::string& control_path) {
  BorrowedMaster m;
  ensure_master(target, control_path, m.hold, kDestroyMasterPersist);
  m.control_path = control_path;
  return m;
}

ResourceOutcome return_destroy_master(const SshTarget& target, BorrowedMaster& master) {
  master.hold.release();
  MasterUsers users{"", "", std::chrono::milliseconds(0), "another destroy"};
  ResourceOutcome row = close_master(target, master.control_path, users);
  master.control_path.clear();
  return row;
}

}  // namespace cgspawn::remote
