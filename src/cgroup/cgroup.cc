// SPDX-License-Identifier: MIT
#include "cgroup/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>
#include <thread>

#include "util/file_io.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

UniqueFd open_dir(const std::string& path) {
  return UniqueFd(::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
}

void collect_bottom_up(const std::string& path, std::vector<std::string>& out) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.is_directory(ec)) collect_bottom_up(entry.path().string(), out);
  }
  out.push_back(path);
}

}  // namespace

Cgroup Cgroup::create(const std::string& parent, const std::string& name) {
  std::string path = parent + "/" + name;
  if (::mkdir(path.c_str(), 0755) != 0) throw_sys("mkdir " + path, errno);
  UniqueFd dir = open_dir(path);
  if (!dir.valid()) {
    int err = errno;
    ::rmdir(path.c_str());
    throw_sys("open " + path, err);
  }
  return Cgroup(path, std::move(dir));
}

Cgroup Cgroup::open(const std::string& path) {
  UniqueFd dir = open_dir(path);
  if (!dir.valid()) throw_sys("open " + path, errno);
  return Cgroup(path, std::move(dir));
}

std::optional<std::string> Cgroup::read(const std::string& file) const {
  return read_file_at(dir_.get(), file);
}

int Cgroup::write(const std::string& file, const std::string& content) const {
  return write_file_at(dir_.get(), file, content);
}

bool Cgroup::populated() const {
  auto events = read("cgroup.events");
  if (!events) return false;  // removed, or never a cgroup: nothing can be in it
  return keyed_value(*events, "populated").value_or(0) != 0;
}

std::vector<pid_t> Cgroup::procs_recursive() const {
  std::vector<pid_t> pids;
  for (const auto& dir : tree_bottom_up()) {
    std::istringstream in(read_file(dir + "/cgroup.procs").value_or(""));
    pid_t pid;
    while (in >> pid) pids.push_back(pid);
  }
  return pids;
}

std::vector<std::string> Cgroup::tree_bottom_up() const {
  std::vector<std::string> out;
  collect_bottom_up(path_, out);
  return out;
}

int Cgroup::remove_tree(Clock::time_point deadline, std::string* failed_path) const {
  // Most task cgroups have no child cgroup: one rmdir, without listing the tree first. One
  // that has children (or is still busy) answers EBUSY, and the walk below takes over.
  if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) return 0;
  auto backoff = std::chrono::milliseconds(1);
  for (;;) {
    int err = 0;
    for (const auto& dir : tree_bottom_up()) {
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) continue;
      err = errno;
      if (failed_path) *failed_path = dir;
      break;
    }
    // EBUSY can outlast "populated 0" by a moment while the last tasks finish exiting.
    if (err != EBUSY || Clock::now() >= deadline) return err;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace cgspawn
