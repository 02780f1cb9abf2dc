// SPDX-License-Identifier: MIT
#include "podman_support.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace podtest {
namespace {

int counter = 0;
const char* kRoot = "/cgspawn-podtest";

// cgroup2 and, on a hybrid host, every v1 hierarchy: podman makes the container's dirs in each.
std::vector<std::string> all_mounts() {
  return cgtest::cgroup_mounts();
}

}  // namespace

std::string lab(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v)
    throw std::runtime_error(std::string("$") + name + " is not set: run tests/podman/run-podman-suite.sh");
  return v;
}

PodParent::PodParent() {
  path_ =
      cgtest::cgroup2_mount() + kRoot + "/p" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  ::mkdir((cgtest::cgroup2_mount() + kRoot).c_str(), 0755);
}

std::string PodParent::rel() const {
  return path_.substr(cgtest::cgroup2_mount().size());
}

std::vector<std::string> PodParent::dirs_left() const {
  std::vector<std::string> out;
  for (const auto& m : all_mounts())
    if (cgtest::exists(m + rel())) out.push_back(m + rel());
  return out;
}

PodParent::~PodParent() {
  // A test that failed half-way may leave its containers: remove those of this test process
  // (unique_id puts our pid in every name) before their cgroups are killed.
  std::string mine = "^cgspawn-pt-.*-" + std::to_string(::getpid()) + "-[0-9]+$";
  sh("podman ps -aq --filter 'name=" + mine + "' | xargs -r podman rm -f -t 0 >/dev/null 2>&1");
  if (cgtest::exists(path_)) cgtest::kill_and_remove(path_);
  for (const auto& m : all_mounts()) {
    std::string top = m + rel();
    if (!cgtest::exists(top)) continue;
    std::vector<std::string> dirs;
    for (const auto& e : std::filesystem::recursive_directory_iterator(top))
      if (e.is_directory()) dirs.push_back(e.path().string());
    std::sort(dirs.begin(), dirs.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
    dirs.push_back(top);
    for (const auto& d : dirs) ::rmdir(d.c_str());
  }
}

Shell sh(const std::string& command) {
  Shell r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool container_exists(const std::string& name_or_id) {
  return sh("podman container exists '" + name_or_id + "'").rc == 0;
}

std::vector<pid_t> pids_below(const std::string& path) {
  std::vector<pid_t> out;
  if (!cgtest::exists(path)) return out;
  for (auto p : cgtest::read_pids(path + "/cgroup.procs")) out.push_back(p);
  for (const auto& e : std::filesystem::recursive_directory_iterator(path))
    if (e.is_directory())
      for (auto p : cgtest::read_pids(e.path().string() + "/cgroup.procs")) out.push_back(p);
  return out;
}

std::string unique_id(const std::string& stem) {
  return "pt-" + stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

}  // namespace podtest
