// SPDX-License-Identifier: MIT
#include "backends/remote/master_users.hpp"

#include <sys/stat.h>

#include <map>
#include <mutex>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn::remote {
namespace {

std::mutex users_mutex;
std::map<std::string, int>& in_process() {
  static std::map<std::string, int> map;
  return map;
}

int in_process_users(const std::string& control_path) {
  std::lock_guard lock(users_mutex);
  auto it = in_process().find(control_path);
  return it == in_process().end() ? 0 : it->second;
}

std::string ledger_users(const std::string& control_path, const MasterUsers& users) {
  std::string found;
  struct stat st {};
  // Opening a Ledger would create its directory: one that is gone has no users.
  if (users.ledger_dir.empty() || ::stat(users.ledger_dir.c_str(), &st) != 0) return found;
  try {
    Ledger ledger(users.ledger_dir);
    for (const auto& t : ledger.list().tasks) {
      if (t.id == users.except_id || t.state == TaskState::exited || !owner_alive(t.owner)) continue;
      for (const auto& r : t.resources)
        if (r.resource.kind == ResourceKind::ssh_master && r.resource.id == control_path)
          found += (found.empty() ? "task " : ", ") + t.id;
    }
  } catch (const std::exception&) {
    // an unreadable ledger: no other users known
  }
  return found;
}

}  // namespace

void master_taken(const std::string& control_path) {
  std::lock_guard lock(users_mutex);
  ++in_process()[control_path];
}

void master_let_go(const std::string& control_path) {
  std::lock_guard lock(users_mutex);
  auto it = in_process().find(control_path);
  if (it == in_process().end()) return;
  if (--it->second <= 0) in_process().erase(it);
}

std::string other_master_users(const std::string& control_path, const MasterUsers& users) {
  if (int here = in_process_users(control_path); here > 0)
    return std::to_string(here) + " other task(s) of this process";
  return ledger_users(control_path, users);
}

}  // namespace cgspawn::remote
