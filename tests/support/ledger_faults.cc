// SPDX-License-Identifier: MIT
#include "ledger_faults.hpp"

#include <dirent.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "host.hpp"

namespace cgtest {
namespace {

int g_nth = 0;
int g_updates = 0;
int g_failed = 0;

bool is_record(const char* path) {
  size_t n = std::strlen(path);
  return n >= 12 && std::strcmp(path + n - 12, "/record.json") == 0;
}

int failing_rename(const char* from, const char* to) {
  if (is_record(to) && ++g_updates >= g_nth) {
    ++g_failed;
    errno = EIO;
    return -1;
  }
  return std::rename(from, to);
}

}  // namespace

FailingRecordUpdates::FailingRecordUpdates(int nth) : saved_(cgspawn::sys::syscalls()) {
  g_nth = nth;
  g_updates = 0;
  g_failed = 0;
  cgspawn::sys::syscalls().rename_record = failing_rename;
}

FailingRecordUpdates::~FailingRecordUpdates() {
  cgspawn::sys::syscalls() = saved_;
}

int FailingRecordUpdates::updates() const {
  return g_updates;
}
int FailingRecordUpdates::failed() const {
  return g_failed;
}

std::vector<std::string> processes_running(const std::string& needle) {
  std::vector<std::string> found;
  DIR* proc = ::opendir("/proc");
  if (!proc) return found;
  while (dirent* entry = ::readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0 || process_state(pid) == "Z" || process_state(pid).empty()) continue;
    auto cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
    if (!cmdline) continue;
    for (auto& c : *cmdline)
      if (c == '\0') c = ' ';
    if (cmdline->find(needle) != std::string::npos) found.push_back(std::to_string(pid) + ": " + *cmdline);
  }
  ::closedir(proc);
  return found;
}

}  // namespace cgtest
