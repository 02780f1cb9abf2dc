// SPDX-License-Identifier: MIT
// main() of the remote suite: brings the fake remotes up (unless run-remote-suite.sh did),
// runs the tests, and always takes down what it brought up. A lab that cannot start fails
// the suite loudly; it never skips.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "case_log.hpp"
#include "remote_lab.hpp"

CGTEST_CASE_LOG();

int main(int argc, char** argv) {
  if (cgtest::listing_only(argc, argv)) return doctest::Context(argc, argv).run();
  if (::geteuid() != 0) {
    std::cerr << "remote suite: needs root (the lab makes network namespaces and cgroups)\n";
    return 1;
  }
  try {
    rtest::labs_up();
  } catch (const std::exception& e) {
    std::cerr << "remote suite: " << e.what() << "\n";
    rtest::labs_down();
    return 1;
  }
  doctest::Context context(argc, argv);
  int rc = 1;
  try {
    rc = context.run();
  } catch (...) {
    rtest::labs_down();
    throw;
  }
  rtest::labs_down();
  return rc;
}
