// SPDX-License-Identifier: MIT
// main() of every host test binary: refuses loudly (fails, never skips) when the host cannot
// run the tests, and fails afterwards when a fixture could not clean up or a cgroup of this
// process is left.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "case_log.hpp"
#include "host.hpp"

namespace {

std::vector<std::string> problems() {
  std::vector<std::string> out;
  if (::geteuid() != 0) out.push_back("not running as root: the host tests create cgroups");
  std::string mount = cgtest::cgroup2_mount();
  if (mount.empty())
    out.push_back("no cgroup2 is mounted: the host tests need one");
  else if (::access((mount + "/cgroup.procs").c_str(), W_OK) != 0)
    out.push_back("cgroup2 at " + mount + " is not writable");
  for (const char* env : {"CGSPAWN_BIN", "CGSPAWN_TEST_HELPER"}) {
    try {
      cgtest::built_program(env);
    } catch (const std::exception& e) {
      out.push_back(e.what());
    }
  }
  return out;
}

// Cgroups named after this process (cgspawn-test-<pid>-*) in cgroup2 and in the v1 freezer.
std::vector<std::string> own_leftovers() {
  std::vector<std::string> out;
  std::string mine = std::string(cgtest::kPrefix) + std::to_string(::getpid()) + "-";
  for (const auto& root : {cgtest::cgroup2_mount(), cgtest::v1_mount("freezer")}) {
    if (root.empty()) continue;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root, ec))
      if (e.is_directory(ec) && e.path().filename().string().rfind(mine, 0) == 0)
        out.push_back(e.path().string());
  }
  return out;
}

}  // namespace

CGTEST_CASE_LOG();

int main(int argc, char** argv) {
  if (cgtest::listing_only(argc, argv)) return doctest::Context(argc, argv).run();
  auto missing = problems();
  if (!missing.empty()) {
    std::cerr << "\n*** THE HOST TESTS CANNOT RUN HERE (this is a failure, not a skip):\n";
    for (const auto& p : missing) std::cerr << "***   " << p << "\n";
    std::cerr << std::endl;
    return 1;
  }
  doctest::Context context(argc, argv);
  int rc = context.run();
  if (context.shouldExit()) return rc;
  if (cgtest::CaseLog::cases_run() == 0) {
    std::cerr << "*** no test case ran: the filters match none (this is a failure, not a pass)\n";
    return 1;
  }
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
