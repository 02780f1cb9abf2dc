// SPDX-License-Identifier: MIT
// main() of the systemd guest tests: refuses loudly (fails, never skips) unless systemd is PID 1
// on pure cgroup v2 and this runs as root; afterwards fails when any cgspawn-* unit is left on
// the system manager or cgtest's user manager.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <unistd.h>

#include <iostream>

#include "case_log.hpp"
#include "systemd_support.hpp"

CGTEST_CASE_LOG();

int main(int argc, char** argv) {
  if (cgtest::listing_only(argc, argv)) return doctest::Context(argc, argv).run();
  std::string pid1 = cgsd::sh("cat /proc/1/comm").out;
  if (::geteuid() != 0 || pid1 != "systemd\n" ||
      cgsd::sh("test -f /sys/fs/cgroup/cgroup.controllers").status != 0) {
    std::cerr
        << "*** the systemd guest tests need root, systemd as PID 1 and pure cgroup v2: run them in the "
           "guest VM (tests/guest/run-guest-suite.sh BUILD_DIR)\n";
    return 1;
  }
  doctest::Context context(argc, argv);
  int status = context.run();
  if (context.shouldExit()) return status;
  std::string left = cgsd::cgspawn_units();
  if (!left.empty()) {
    std::cerr << "*** cgspawn units left after the run:\n" << left;
    return 1;
  }
  std::cout << "systemctl list-units 'cgspawn-*' --all: empty (system and user manager)\n";
  return status;
}
