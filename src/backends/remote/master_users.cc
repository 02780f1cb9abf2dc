// SPDX-License-Identifier: MIT
#include "backends/remote/master_users.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "util/deadline.hpp"

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

// Does anybody hold it (the caller has let go of its own)?
bool master_held(const std::string& control_path) {
  UniqueFd fd = open_holds(control_path);  // a file description of its own: our holds count too
  if (!fd.valid()) return false;
  return flock_retrying(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

// The holds this process has, by control path: a close in a process whose other thread still
// holds the master (a `reap` destroying several of its tasks) keeps it at once.
std::mutex& holds_here_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::map<std::string, int>& holds_here() {
  static std::map<std::string, int> holds;
  return holds;
}

bool held_here(const std::string& control_path) {
  std::lock_guard lock(holds_here_mutex());
  return holds_here().count(control_path) != 0;
}

// The live tasks of the ledger that record the master ("task a, b"), "" for none.
std::string recorded_users(const std::string& control_path, const MasterUsers& users) {
  std::string found;
  struct stat st {};
  // Opening a Ledger would create its directory: one that is gone records nobody.
  if (!users.ledger_dir.empty() && ::stat(users.ledger_dir.c_str(), &st) == 0) {
    try {
      Ledger ledger(users.ledger_dir);
      for (const auto& t : ledger.summaries().tasks) {
        if (t.id == users.except_id || t.state == TaskState::exited || !owner_alive(t.owner)) continue;
        for (const auto& r : t.resources)
          if (r.resource.kind == ResourceKind::ssh_master && r.resource.id == control_path)
            found += (found.empty() ? "task " : ", ") + t.id;
      }
    } catch (const std::exception&) {
      // an unreadable ledger: the holders stay unnamed
    }
  }
  return found;
}

}  // namespace

MasterHold::MasterHold(std::string control_path, UniqueFd fd)
    : control_path_(std::move(control_path)), fd_(std::move(fd)) {
  if (!fd_.valid()) return;
  std::lock_guard lock(holds_here_mutex());
  ++holds_here()[control_path_];
}

MasterHold& MasterHold::operator=(MasterHold&& other) noexcept {
  if (this != &other) {
    release();
    control_path_ = std::move(other.control_path_);
    fd_ = std::move(other.fd_);
  }
  return *this;
}

void MasterHold::release() {
  if (!fd_.valid()) return;
  fd_.reset();
  std::lock_guard lock(holds_here_mutex());
  if (--holds_here()[control_path_] == 0) holds_here().erase(control_path_);
}

MasterHold hold_master(const std::string& control_path) {
  UniqueFd fd = open_holds(control_path);
  // Never blocks: only a closer takes it exclusively, under the master's lock, which we hold.
  if (fd.valid() && flock_retrying(fd.get(), LOCK_SH) != 0) fd.reset();
  return MasterHold(control_path, std::move(fd));
}

bool master_held_by_others(const std::string& control_path, const MasterUsers& users,
                           std::string& users_named) {
  if (!master_held(control_path)) return false;
  users_named = recorded_users(control_path, users);
  if (held_here(control_path) || !users_named.empty()) {
    if (users_named.empty()) users_named = users.unnamed;
    return true;
  }
  // A flock says nothing when it ends (docs/coding-guidelines.md: one of the waits that poll):
  // asked again every 10 ms; a spawn that took the master up records it within milliseconds,
  // so the ledger is asked again every 100 ms.
  auto deadline = Clock::now() + users.patience;
  for (int turn = 1; Clock::now() < deadline; ++turn) {
    ::usleep(10 * 1000);
    if (!master_held(control_path)) return false;
    if (turn % 10 == 0 && !(users_named = recorded_users(control_path, users)).empty()) return true;
  }
  users_named = users.unnamed;
  return true;
}

void remove_holds_file(const std::string& control_path) {
  ::unlink(holds_file(control_path).c_str());
}

}  // namespace cgspawn::remote
