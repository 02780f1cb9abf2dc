// SPDX-License-Identifier: MIT
// Host discovery: where cgroup2 is mounted, which controllers v1 holds, where we are.
#pragma once

#include <map>
#include <string>

namespace cgspawn {

enum class CgroupLayout {
  unified,  // pure cgroup v2 at /sys/fs/cgroup
  hybrid,   // v1 controllers + cgroup2 (usually /sys/fs/cgroup/unified)
  none,     // no cgroup2 mounted
};

struct Hierarchy {
  CgroupLayout layout = CgroupLayout::none;
  std::string mount;                                  // the cgroup2 mount point, "" for none
  std::map<std::string, std::string> v1_controllers;  // controller -> its v1 mount point
  std::string own_cgroup;                             // "/..." in cgroup2, from /proc/self/cgroup
};

// Reads /proc/self/cgroup, and /proc/self/mountinfo once per mount namespace the process is in
// (hierarchy.cc says why): a private mount namespace is seen as it is.
Hierarchy discover_hierarchy();

// The same without `own_cgroup` (left empty): the mounts alone, no read of /proc/self/cgroup,
// for a caller that destroys a task cgroup by its path (a reap does so a thousand times).
Hierarchy discover_mounts();

// The same from given texts, for tests.
Hierarchy parse_hierarchy(const std::string& mountinfo, const std::string& self_cgroup);

}  // namespace cgspawn
