// SPDX-License-Identifier: MIT
// Parent cgroups that cgspawn makes for its tasks (process and podman backends).
#pragma once

#include <string>
#include <vector>

namespace cgspawn {

// Throws invalid_argument unless `parent` is a plain path below the cgroup2 `mount`.
void check_parent_path(const std::string& parent, const std::string& mount);

// Why no task cgroup can be made under `parent` ("" when one can): the cgroup2 file system is
// read-only there (a container's view of the host's cgroups), or the caller may not write to
// the nearest directory that exists.
std::string parent_unwritable(const std::string& parent, const std::string& mount);

// mkdir -p of `parent` below `mount`. Marks each directory it creates as cgspawn's
// (xattr user.cgspawn.made), so that whichever cgspawn process ends the last task below it
// removes it, not only the one that made it. Returns the directories it created.
std::vector<std::string> make_parent(const std::string& parent, const std::string& mount);

// Which parent cgroups go once empty: those cgspawn made, and cgspawn's own default parent
// (<cgroup2>/cgspawn: "" when the spawner did not use it); never one that existed before.
struct ParentPruning {
  std::string mount;
  std::string own_default;
};

// rmdir `dir`, then its parents, while each is cgspawn's (above) and empty.
void prune_parents(const std::string& dir, const ParentPruning& rule);

}  // namespace cgspawn
