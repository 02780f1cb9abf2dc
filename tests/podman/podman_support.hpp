// SPDX-License-Identifier: MIT
// What the podman tests stand on: the lab's variables (tests/podman/lab-up.sh), a parent cgroup
// per test under /cgspawn-podtest (the root lab-down cleans), and podman/cgroup probes that
// check on their own that a container is gone.
#pragma once

#include <string>
#include <vector>

#include "cli.hpp"
#include "host.hpp"

namespace podtest {

// $NAME, or a loud failure (the lab was not set up: run tests/podman/run-podman-suite.sh).
std::string lab(const char* name);

// /sys/fs/cgroup/unified/cgspawn-podtest/p<pid>-<n>; the destructor kills and removes what is
// left below it in cgroup2 and in every v1 hierarchy, and removes the containers of this test process.
class PodParent {
 public:
  PodParent();
  ~PodParent();
  PodParent(const PodParent&) = delete;
  PodParent& operator=(const PodParent&) = delete;
  const std::string& path() const { return path_; }
  std::string rel() const;  // "/cgspawn-podtest/p..."
  std::string task(const std::string& id) const { return path_ + "/cgspawn-" + id; }
  std::vector<std::string> dirs_left() const;  // in cgroup2 and v1, below and including it

 private:
  std::string path_;
};

struct Shell {
  int rc = -1;
  std::string out;
};
Shell sh(const std::string& command);  // /bin/sh -c, stdout captured, stderr to ours

bool container_exists(const std::string& name_or_id);
// Every pid in the cgroup2 tree at `path` (recursively).
std::vector<pid_t> pids_below(const std::string& path);
std::string unique_id(const std::string& stem);

}  // namespace podtest
