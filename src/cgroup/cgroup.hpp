// SPDX-License-Identifier: MIT
// Cgroup: one directory in the cgroup2 filesystem that cgspawn created and owns.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {

class Cgroup {
 public:
  // mkdir PARENT/NAME. Throws cgspawn::Error naming the path when it fails (EEXIST included:
  // a cgroup of that name belongs to someone else, or to another task).
  static Cgroup create(const std::string& parent, const std::string& name);
  // An existing cgroup (e.g. found through the ledger). Throws when it cannot be opened.
  static Cgroup open(const std::string& path);

  const std::string& path() const { return path_; }
  int dirfd() const { return dir_.get(); }

  std::optional<std::string> read(const std::string& file) const;
  int write(const std::string& file, const std::string& content) const;  // 0 or errno

  // From cgroup.events; false once the cgroup has no process in it or below it.
  bool populated() const;
  // Every pid in this cgroup and its descendants (cgroup.procs of each).
  std::vector<pid_t> procs_recursive() const;
  // This cgroup and every descendant, deepest first: the order rmdir needs.
  std::vector<std::string> tree_bottom_up() const;
  // rmdir of the whole tree, retrying EBUSY until `deadline`. Returns 0 or the errno, with
  // `failed_path` set to what could not be removed. ENOENT counts as removed.
  int remove_tree(Clock::time_point deadline, std::string* failed_path = nullptr) const;

 private:
  Cgroup(std::string path, UniqueFd dir) : path_(std::move(path)), dir_(std::move(dir)) {}
  std::string path_;
  UniqueFd dir_;
};

}  // namespace cgspawn
