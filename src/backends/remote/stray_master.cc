// SPDX-License-Identifier: MIT
#include "backends/remote/stray_master.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <string_view>

#include "util/file_io.hpp"

namespace cgspawn::remote {
namespace {

// read(2), not a stream: of a process that exits meanwhile the read fails (ESRCH), which
// libstdc++'s filebuf throws as an error (a `reap` of 100 remote tasks failed on it while their
// ssh processes ended); such a process is no master to stop.
std::vector<std::string> argv_of(const std::string& proc_dir) {
  std::string raw = read_file(proc_dir + "/cmdline").value_or("");
  std::vector<std::string> argv;
  for (size_t at = 0; at < raw.size();) {
    size_t end = raw.find('\0', at);
    if (end == std::string::npos) end = raw.size();
    argv.push_back(raw.substr(at, end - at));
    at = end + 1;
  }
  return argv;
}

bool is_master_for(const std::vector<std::string>& argv, const std::string& control_path) {
  if (argv.empty()) return false;
  const std::string& exe = argv[0];
  if (exe != "ssh" && (exe.size() < 4 || exe.compare(exe.size() - 4, 4, "/ssh") != 0)) return false;
  auto has = [&argv](const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
  };
  return has("ControlMaster=yes") && has("ControlPath=" + control_path);
}

// Gone, or a zombie (then its parent reaps it; it holds nothing of the connection any more).
bool exited(int pid) {
  if (::kill(pid, 0) != 0) return true;
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;  // gone since
  std::string_view line = *stat;
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

}  // namespace

std::vector<StoppedMaster> stop_stray_masters(const std::string& control_path) {
  std::vector<StoppedMaster> stopped;
  DIR* proc = ::opendir("/proc");
  if (!proc) return stopped;
  while (dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == ::getpid()) continue;
    std::string dir = std::string("/proc/") + e->d_name;
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || st.st_uid != ::getuid()) continue;
    if (!is_master_for(argv_of(dir), control_path)) continue;
    if (::kill(static_cast<pid_t>(pid), SIGTERM) == 0) stopped.push_back({static_cast<int>(pid), false});
  }
  ::closedir(proc);
  for (int i = 0; i < 40; ++i) {
    bool all = true;
    for (auto& m : stopped) all &= (m.gone = m.gone || exited(m.pid));
    if (all) break;
    ::usleep(50 * 1000);
  }
  return stopped;
}

}  // namespace cgspawn::remote
