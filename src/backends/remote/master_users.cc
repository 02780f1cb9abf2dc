// SPDX-License-Identifier: MIT
#include "backends/remote/master_users.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn::remote {
namespace {

std::string holds_file(const std::string& control_path) {
  return control_path + ".users";
}

UniqueFd open_holds(const std::string& control_path) {
  return UniqueFd(::open(holds_file(control_path).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
}

int flock_retrying(int fd, int operation) {
  int rc;
  while ((rc = ::flock(fd, operation)) != 0 && errno == EINTR) {
  }
  return rc;
}

}  // namespace

UniqueFd hold_master(const std::string& control_path) {
  UniqueFd fd = open_holds(control_path);
  // Never blocks: only a closer takes it exclusively, under the master's lock, which we hold.
  if (fd.valid() && flock_retrying(fd.get(), LOCK_SH) != 0) fd.reset();
  return fd;
}

bool master_held(const std::string& control_path) {
  UniqueFd fd = open_holds(control_path);  // a file description of its own: our holds count too
  if (!fd.valid()) return false;
  return flock_retrying(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

void remove_holds_file(const std::string& control_path) {
  ::unlink(holds_file(control_path).c_str());
}

std::string name_master_users(const std::string& control_path, const MasterUsers& users) {
  std::string found;
  struct stat st {};
  // Opening a Ledger would create its directory: one that is gone records nobody.
  if (!users.ledger_dir.empty() && ::stat(users.ledger_dir.c_str(), &st) == 0) {
    try {
      Ledger ledger(users.ledger_dir);
      for (const auto& t : ledger.list().tasks) {
        if (t.id == users.except_id || t.state == TaskState::exited || !owner_alive(t.owner)) continue;
        for (const auto& r : t.resources)
          if (r.resource.kind == ResourceKind::ssh_master && r.resource.id == control_path)
            found += (found.empty() ? "task " : ", ") + t.id;
      }
    } catch (const std::exception&) {
      // an unreadable ledger: the holders stay unnamed
    }
  }
  return found.empty() ? "another task" : found;
}

}  // namespace cgspawn::remote
