// SPDX-License-Identifier: MIT
// Whether podman can contain tasks on this host, and why not: checked without running podman
// (`podman info` costs ~0.4 s here, more than a whole container run) and without changing
// anything, so make_spawner() stays free of side effects until spawn().
#pragma once

#include <string>

#include "cgroup/hierarchy.hpp"
#include "cgspawn/capabilities.hpp"
#include "cgspawn/task_spec.hpp"

namespace cgspawn {

struct PodmanHost {
  Hierarchy hierarchy;
  std::string podman;        // the binary, "" when not in PATH
  std::string runtime;       // the OCI runtime the environment's containers.conf selects
  std::string runtime_from;  // which file said so, or "podman's default"
  Capability usable;
};

PodmanHost probe_podman_host();

// memory/pids/cpu as podman enforces them here (through v1 controllers on a hybrid host).
Capability podman_limit_capability(const PodmanHost& host, const std::string& controller);

// Throws unsupported naming the limit that cannot be enforced here.
void check_podman_limits(const PodmanHost& host, const Limits& limits);

}  // namespace cgspawn
