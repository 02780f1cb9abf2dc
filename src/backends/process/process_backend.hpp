// The process backend's rows in the backend registry.
#pragma once

#include "cgspawn/backends.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn {

std::unique_ptr<Spawner> make_process_backend(const BackendOptions& options);
Capabilities process_backend_capabilities(const BackendOptions& options);

// A recorded task cgroup, destroyed and verified from its record (owner gone).
ResourceOutcome destroy_recorded_cgroup(const ResourceRecord& resource, const DestroyOptions& options);

}  // namespace cgspawn
