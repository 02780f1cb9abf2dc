// SPDX-License-Identifier: MIT
// Destroying a cgroup tree: SIGTERM to all, grace, SIGKILL to all, verify empty, remove.
// The one path every backend with a cgroup walks (process, the systemd and podman fallbacks).
#pragma once

#include <functional>

#include "cgroup/cgroup.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn {

struct CgroupDestroyResult {
  ResourceOutcome row;       // kind "cgroup", id = the path
  bool interrupted = false;  // the grace was cut short by DestroyOptions::interrupt_fd
};

// Never throws. `before_remove` runs once the tree is verified empty, before rmdir (to read
// usage). With `remove` false the verified-empty cgroup is left for its owner to remove.
CgroupDestroyResult destroy_cgroup(const Cgroup& cgroup, const DestroyOptions& options,
                                   const std::function<void(const Cgroup&)>& before_remove = {},
                                   bool remove = true);

}  // namespace cgspawn
