// SPDX-License-Identifier: MIT
// main() of the guest test binary: refuses loudly (fails, never skips) outside the guest of
// run-in-guest.sh (real systemd as PID 1, pure cgroup v2, a delegated cgroup with the memory,
// pids and cpu controllers for its children), and fails afterwards when a fixture could not
// clean up or a cgroup of this process is left below the delegated cgroup.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "case_log.hpp"
#include "guest.hpp"
#include "host.hpp"

namespace {

std::vector<std::string> problems() {
  std::vector<std::string> out;
  if (::geteuid() != 0) out.push_back("not running as root");
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
    out.push_back("/sys/fs/cgroup is not cgroup2 (this is not a pure cgroup v2 host)");
  std::string pid1 = cgguest::first_line("/proc/1/comm");
  if (pid1 != "systemd") out.push_back("PID 1 is \"" + pid1 + "\", not systemd");
  std::string d = cgguest::delegated();
  if (d.empty()) {
    out.push_back(
        "$CGTEST_DELEGATED_CGROUP is not set: these tests run inside the guest VM, "
        "through tests/guest/run-guest-suite.sh BUILD_DIR");
  } else {
    std::string subtree = cgtest::read_text(d + "/cgroup.subtree_control").value_or("");
    for (const char* c : {"memory", "pids", "cpu"})
      if (!cgtest::has_word(subtree, c))
        out.push_back(d + "/cgroup.subtree_control lacks " + c + " (\"" + subtree + "\")");
    std::string own = "/sys/fs/cgroup" + cgtest::cgroup_of(::getpid());
    if (own.rfind(d + "/", 0) != 0)
      out.push_back("this process runs in " + own + ", not in a leaf below " + d);
  }
  for (const char* env : {"CGSPAWN_BIN", "CGSPAWN_TEST_HELPER", "CGSPAWN_GUEST_HELPER"}) {
    try {
      cgtest::built_program(env);
    } catch (const std::exception& e) {
      out.push_back(e.what());
    }
  }
  return out;
}

// Cgroups named after this process (cgspawn-guest-<pid>-*) below the delegated cgroup.
std::vector<std::string> own_leftovers() {
  std::vector<std::string> out;
  std::string mine = std::string(cgguest::kPrefix) + std::to_string(::getpid()) + "-";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cgguest::delegated(), ec))
    if (e.is_directory(ec) && e.path().filename().string().rfind(mine, 0) == 0)
      out.push_back(e.path().string());
  return out;
}

}  // namespace

CGTEST_CASE_LOG();

int main(int argc, char** argv) {
  if (cgtest::listing_only(argc, argv)) return doctest::Context(argc, argv).run();
  auto missing = problems();
  if (!missing.empty()) {
    std::cerr << "\n*** THE GUEST TESTS CANNOT RUN HERE (this is a failure, not a skip):\n";
    for (const auto& p : missing) std::cerr << "***   " << p << "\n";
    std::cerr << std::endl;
    return 1;
  }
  doctest::Context context(argc, argv);
  int rc = context.run();
  if (context.shouldExit()) return rc;
  auto left = own_leftovers();
  for (const auto& path : left) {
    std::cerr << "*** LEFT BEHIND: " << path << "\n";
    cgtest::kill_and_remove(path);
  }
  if (cgtest::teardown_failures() > 0)
    std::cerr << "*** " << cgtest::teardown_failures() << " teardown(s) failed\n";
  if (!left.empty() || cgtest::teardown_failures() > 0) return 1;
  return rc;
}
