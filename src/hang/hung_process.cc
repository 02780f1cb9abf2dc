// SPDX-License-Identifier: MIT
#include "hang/hung_process.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "util/file_io.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {
namespace {

constexpr std::size_t kCmdlineChars = 1024;

std::string proc_path(pid_t pid, const char* what) {
  return "/proc/" + std::to_string(pid) + "/" + what;
}

std::string link_target(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

// Arguments joined by spaces (NULs in /proc/PID/cmdline), capped.
std::string read_cmdline(pid_t pid) {
  std::string raw = read_file(proc_path(pid, "cmdline")).value_or("");
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  std::replace(raw.begin(), raw.end(), '\0', ' ');
  if (raw.size() > kCmdlineChars) raw = raw.substr(0, kCmdlineChars) + "...";
  return raw;
}

void read_fds(pid_t pid, HungProcess& p) {
  std::string dir = proc_path(pid, "fd");
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<int> fds;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') fds.push_back(std::stoi(e->d_name));
  ::closedir(d);
  std::sort(fds.begin(), fds.end());
  p.fds = fds.size();
  for (std::size_t i = 0; i < fds.size() && i < kOpenFilesListed; ++i)
    p.open_files.push_back(std::to_string(fds[i]) + " " + link_target(dir + "/" + std::to_string(fds[i])));
}

double seconds_since_boot() {
  std::istringstream in(read_file("/proc/uptime").value_or("0"));
  double up = 0;
  in >> up;
  return up;
}

}  // namespace

std::optional<HungProcess> read_hung_process(pid_t pid) {
  std::optional<ProcessStat> stat = process_stat(pid);
  if (!stat) return std::nullopt;
  HungProcess p;
  p.pid = pid;
  p.comm = std::move(stat->comm);
  p.state = std::move(stat->state);
  p.ppid = stat->ppid;
  p.age_seconds =
      std::max(0.0, seconds_since_boot() - static_cast<double>(stat->start_time) / ::sysconf(_SC_CLK_TCK));
  std::istringstream statm(read_file(proc_path(pid, "statm")).value_or(""));
  unsigned long long size = 0, resident = 0;
  if (statm >> size >> resident)
    p.rss_bytes = resident * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE));
  p.cmdline = read_cmdline(pid);
  p.cwd = link_target(proc_path(pid, "cwd"));
  read_fds(pid, p);
  return p;
}

std::vector<HungThread> read_hung_threads(pid_t pid) {
  std::vector<HungThread> threads;
  for (pid_t tid : thread_ids(pid, kHungThreadsListed)) {
    KernelWait wait = kernel_wait(pid, tid);
    threads.push_back({tid, std::move(wait.wchan), std::move(wait.stack)});
  }
  return threads;
}

}  // namespace cgspawn
