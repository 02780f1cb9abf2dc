// SPDX-License-Identifier: MIT
// What each backend contributes to the registry's tables (registry.cc): how to make its
// Spawner, what it can guarantee here, what it made that no record names, and how each of its
// kinds of Resource is destroyed from a ledger record when the task's owner is gone. A new
// backend adds its functions here and one row to each table.
#pragma once

#include <memory>
#include <vector>

#include "cgspawn/backends.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/recorded_tasks.hpp"

namespace cgspawn {

// process: task cgroups under a parent cgroup (cgspawn/process_spawner.hpp).
std::unique_ptr<Spawner> make_process_backend(const BackendOptions& options);
Capabilities process_backend_capabilities(const BackendOptions& options);
// Task cgroups named cgspawn-* under the ledger's parents (and the default parent) that no
// record names and no other ledger marked.
std::vector<Orphan> find_orphan_cgroups(const Ledger& ledger);
ResourceOutcome destroy_recorded_cgroup(const ResourceRecord& resource, const DestroyOptions& options);

// systemd: transient units. Side-effect free: throws Error(unsupported) with the reason when
// there is no bus to use, and connects to it only in spawn().
std::unique_ptr<Spawner> make_systemd_backend(const BackendOptions& options);
Capabilities systemd_backend_capabilities(const BackendOptions& options);
// cgspawn-* units of the caller's manager with no record in `ledger` (none without systemd).
std::vector<Orphan> find_orphan_units(const Ledger& ledger);
// A recorded scope or service unit (bus=system|user, uid and cgroup in its attributes).
ResourceOutcome destroy_recorded_unit(const ResourceRecord& resource, const DestroyOptions& options);

// podman: containers. Throws unsupported (with the reason) where podman cannot contain tasks
// here; runs nothing.
std::unique_ptr<Spawner> make_podman_backend(const BackendOptions& options);
Capabilities podman_backend_capabilities(const BackendOptions& options);
ResourceOutcome destroy_recorded_container(const ResourceRecord& resource, const DestroyOptions& options);
ResourceOutcome destroy_recorded_conmon(const ResourceRecord& resource, const DestroyOptions& options);

// remote: a cgroup or unit on another host over ssh. Side-effect free: nothing connects until
// spawn() (or capabilities(), which probes). The recorded ones reconnect, kill and verify.
std::unique_ptr<Spawner> make_remote_backend(const BackendOptions& options);
Capabilities remote_backend_capabilities(const BackendOptions& options);
ResourceOutcome destroy_recorded_remote_cgroup(const ResourceRecord& resource, const DestroyOptions& options);
ResourceOutcome destroy_recorded_ssh_master(const ResourceRecord& resource, const DestroyOptions& options);

// A task's scratch directory, on this host, or on the remote host its attributes name (the
// remote backend's agent removes it there).
ResourceOutcome destroy_recorded_directory(const ResourceRecord& resource, const DestroyOptions& options);
ResourceOutcome destroy_recorded_remote_directory(const ResourceRecord& resource,
                                                  const DestroyOptions& options);

// The capabilities of a backend whose Spawner knows them itself: made with `options` and
// asked; one that cannot be made here is unusable, with the reason.
Capabilities capabilities_by_making(const char* backend,
                                    std::unique_ptr<Spawner> (*make)(const BackendOptions&),
                                    const BackendOptions& options);

}  // namespace cgspawn
