// SPDX-License-Identifier: MIT
#include "backends/process/process_group.hpp"

#include <dirent.h>

#include <csignal>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "util/deadline.hpp"
#include "util/file_io.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {
namespace {

// Without cgroup2 there is nothing to be notified by: look every 20 ms until empty or deadline.
bool wait_group_empty(pid_t pgid, Clock::time_point deadline) {
  for (;;) {
    if (group_members(pgid).empty()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::vector<ProcessRef> group_members(pid_t pgid) {
  std::vector<ProcessRef> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (dirent* entry = ::readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0) continue;
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) continue;
    std::istringstream in(stat->substr(stat->rfind(')') + 1));
    std::string state;
    pid_t ppid = 0, group = 0;
    in >> state >> ppid >> group;
    if (group == pgid && state != "Z") out.push_back(describe_process(pid));
  }
  ::closedir(proc);
  return out;
}

ResourceOutcome destroy_process_group(pid_t pgid, const DestroyOptions& options) {
  auto start = Clock::now();
  ResourceOutcome row;
  row.resource = Resource{ResourceKind::process_group, std::to_string(pgid)};
  auto members = group_members(pgid);
  if (!members.empty()) {
    ::kill(-pgid, SIGTERM);
    ::kill(-pgid, SIGCONT);
    if (!wait_group_empty(pgid, Clock::now() + options.grace)) {
      members = group_members(pgid);
      ::kill(-pgid, SIGKILL);
    }
  }
  row.killed = members;
  row.killed_total = members.size();
  wait_group_empty(pgid, Clock::now() + options.verify_timeout);
  for (const auto& p : group_members(pgid)) row.survivors.push_back(describe_survivor(p.pid));
  row.outcome = row.survivors.empty() ? Outcome::not_guaranteed : Outcome::failed;
  row.detail = "no cgroup2 on this host: only process group " + std::to_string(pgid) +
               " was signalled; processes that left it (setsid, setpgid) are not tracked";
  row.seconds = seconds_between(start, Clock::now());
  return row;
}

}  // namespace cgspawn
