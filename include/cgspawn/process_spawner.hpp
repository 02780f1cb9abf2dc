// The process backend: each task in a child cgroup of its own under a parent cgroup.
#pragma once

#include <memory>
#include <string>

#include "cgspawn/spawner.hpp"

namespace cgspawn {

struct ProcessSpawnerOptions {
  // The cgroup under which task cgroups are created, as an absolute path in the cgroup2
  // filesystem (/sys/fs/cgroup/... or /sys/fs/cgroup/unified/...). Empty: default_parent().
  std::string parent;
};

// The parent cgroup used when none is given (see docs/backends.md): $CGSPAWN_PARENT if set;
// as root <cgroup2 mount>/cgspawn; otherwise a child "cgspawn" of the caller's own cgroup.
// Empty when the host has no cgroup2 at all.
std::string default_parent();

std::unique_ptr<Spawner> make_process_spawner(const ProcessSpawnerOptions& options = {});

}  // namespace cgspawn
