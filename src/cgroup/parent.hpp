// SPDX-License-Identifier: MIT
// Parent cgroups that cgspawn makes for its tasks (process and podman backends).
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace cgspawn {

// Throws invalid_argument unless `parent` is a plain path below the cgroup2 `mount`.
void check_parent_path(const std::string& parent, const std::string& mount);

// mkdir -p of `parent` below `mount`. Returns the directories it created, deepest first.
std::vector<std::string> make_parent(const std::string& parent, const std::string& mount);

// rmdir each directory in order (deepest first), stopping at the first that is still in use.
void remove_empty(const std::vector<std::string>& dirs);

// The parent cgroups a spawner made (and its own default parent): removed again, deepest
// first, when a task ends and they are empty. Used from several threads.
class MadeParents {
 public:
  void add(const std::vector<std::string>& dirs);
  std::vector<std::string> deepest_first() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> dirs_;
};

}  // namespace cgspawn
