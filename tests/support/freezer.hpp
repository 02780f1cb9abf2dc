// SPDX-License-Identifier: MIT
// A cgroup v1 freezer cgroup of the test's own: the one way on a hybrid host to make a process
// that no SIGKILL can end (a v1-frozen task does not act on signals until thawed), so that
// destroy has a real survivor to report. The process stays in its cgroup2 node meanwhile.
#pragma once

#include <sys/types.h>

#include <string>

namespace cgtest {

class V1Freezer {
 public:
  V1Freezer();   // makes <freezer mount>/cgspawn-test-<pid>-<n> when the host has a v1 freezer
  ~V1Freezer();  // thaws, moves whatever is left back to the root freezer cgroup, removes it
  V1Freezer(const V1Freezer&) = delete;
  V1Freezer& operator=(const V1Freezer&) = delete;

  bool available() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  void add(pid_t pid) const;  // throws std::runtime_error on failure
  void freeze() const;        // FROZEN, and waits until freezer.state says so
  void thaw() const;

 private:
  std::string root_;
  std::string path_;
};

}  // namespace cgtest
