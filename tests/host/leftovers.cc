// SPDX-License-Identifier: MIT
// Run last and alone: the suite left no cgroup, no process and no temporary directory behind,
// whatever passed or failed.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#define DOCTEST_CONFIG_IMPLEMENT  // also when the precompiled header has included doctest.h already
#include <dirent.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "host.hpp"

CGTEST_CASE_LOG();

using namespace cgtest;
namespace fs = std::filesystem;

namespace {

// Everything the suite names is "cgspawn-test-<pid>-...", <pid> the test binary that made it.
// While that binary still runs (another run of the suite, in another build directory) the
// thing is in use, not left behind.
bool owner_alive(const std::string& name) {
  auto at = name.find(kPrefix);
  if (at == std::string::npos) return false;
  pid_t pid = std::atoi(name.c_str() + at + std::string(kPrefix).size());
  return pid > 0 && pid != ::getpid() && exists("/proc/" + std::to_string(pid)) &&
         read_text("/proc/" + std::to_string(pid) + "/comm").value_or("").rfind("cgspawn-", 0) == 0;
}

std::vector<std::string> named_ours(const std::string& root, int depth) {
  std::vector<std::string> out;
  if (root.empty()) return out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
    std::string name = e.path().filename().string();
    if (name.rfind(kPrefix, 0) == 0) {
      if (!owner_alive(name)) out.push_back(e.path().string());
    } else if (depth > 1) {
      auto sub = named_ours(e.path().string(), depth - 1);
      out.insert(out.end(), sub.begin(), sub.end());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("no cgspawn-test-* cgroup is left, in cgroup2 or the v1 freezer") {
  std::string mount = cgroup2_mount();
  REQUIRE_MESSAGE(!mount.empty(), "no cgroup2 mounted: the host suite cannot have run");
  auto left = named_ours(mount, 3);
  auto frozen = named_ours(v1_mount("freezer"), 1);
  left.insert(left.end(), frozen.begin(), frozen.end());
  for (const auto& path : left) MESSAGE("left behind: " << path);
  CHECK(left.empty());
}

TEST_CASE("no process of the suite is left") {
  std::vector<std::string> found;
  DIR* proc = ::opendir("/proc");
  REQUIRE(proc);
  while (dirent* e = ::readdir(proc)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat").value_or("");
    if (stat.empty() || stat.find(") Z ") != std::string::npos) continue;  // gone, or dead
    std::string cgroups = read_text("/proc/" + std::to_string(pid) + "/cgroup").value_or("");
    std::string comm = read_text("/proc/" + std::to_string(pid) + "/comm").value_or("");
    bool in_ours = cgroups.find(std::string("/") + kPrefix) != std::string::npos;
    if (in_ours && owner_alive(cgroups.substr(cgroups.find(std::string("/") + kPrefix)))) continue;
    bool helper = comm.rfind("cgspawn-test-he", 0) == 0;  // the helper, cut to 15 characters
    if (in_ours || helper) found.push_back(std::to_string(pid) + " " + comm);
  }
  ::closedir(proc);
  for (const auto& p : found) MESSAGE("left behind: process " << p);
  CHECK(found.empty());
}

TEST_CASE("no temporary directory of the suite is left") {
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/tmp", ec))
    if (e.path().filename().string().rfind(kPrefix, 0) == 0 && !owner_alive(e.path().filename().string()))
      left.push_back(e.path().string());
  for (const auto& path : left) MESSAGE("left behind: " << path);
  CHECK(left.empty());
}
