// SPDX-License-Identifier: MIT
// Destroying one container and verifying on our own that it is gone: podman's exit status
// does not prove it (podman 4.3 can exit 0 with every process alive, or exit 125 and still
// forget the container). So after podman's stop/rm, cgspawn checks three
// things itself: podman no longer knows the container, the container's cgroup2 node is empty
// and removed (emptied with cgroup.kill where podman failed or lied), and conmon (pid + start
// time) has exited. It also removes the empty v1 cgroup dirs podman never removes.
#pragma once

#include "backends/podman/container_ref.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/result.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn {

struct ContainerCleanup {
  ResourceOutcome container;
  ResourceOutcome conmon;
  ResourceOutcome cgroup;
  Usage usage;  // read from the task cgroup before it was removed
};

// Never throws.
ContainerCleanup destroy_container(const ContainerRef& ref, const DestroyOptions& options);

// Waits for conmon to exit; SIGKILLs it if it outlives its container once that is verified
// empty (`container_empty`); never while the container still has processes. The row says which.
ResourceOutcome finish_conmon(int pid, unsigned long long start_time, const DestroyOptions& options,
                              bool container_empty);

// rmdir, depth first, of `cgroup_parent` in every cgroup v1 hierarchy (podman makes it there
// and never removes it, nor <parent>/conmon). Returns what could not be removed, "" when all went.
std::string remove_v1_dirs(const std::string& cgroup_parent);

}  // namespace cgspawn
