// The remote backend's rows in the backend registry.
#pragma once

#include "cgspawn/backends.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn {

// Side-effect free: nothing connects until spawn() (or capabilities(), which probes).
std::unique_ptr<Spawner> make_remote_backend(const BackendOptions& options);
Capabilities remote_backend_capabilities(const BackendOptions& options);

// From a ledger record (the owner is gone): reconnect, kill, verify; close an unused master.
ResourceOutcome destroy_recorded_remote_cgroup(const ResourceRecord& resource, const DestroyOptions& options);
ResourceOutcome destroy_recorded_ssh_master(const ResourceRecord& resource, const DestroyOptions& options);

}  // namespace cgspawn
