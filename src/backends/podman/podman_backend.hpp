// The podman backend's rows in the backend registry.
#pragma once

#include "cgspawn/backends.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn {

// Throws unsupported (with the reason) where podman cannot contain tasks here; runs nothing.
std::unique_ptr<Spawner> make_podman_backend(const BackendOptions& options);
Capabilities podman_backend_capabilities(const BackendOptions& options);

// A recorded container (and its conmon), destroyed and verified from the ledger (owner gone).
ResourceOutcome destroy_recorded_container(const ResourceRecord& resource, const DestroyOptions& options);
ResourceOutcome destroy_recorded_conmon(const ResourceRecord& resource, const DestroyOptions& options);

}  // namespace cgspawn
