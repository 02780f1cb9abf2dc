// The systemd backend's rows in the backend registry.
#pragma once

#include "cgspawn/backends.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn {

// Side-effect free: throws Error(unsupported) with the reason when there is no bus to use,
// and connects to it only in spawn().
std::unique_ptr<Spawner> make_systemd_backend(const BackendOptions& options);
Capabilities systemd_backend_capabilities(const BackendOptions& options);

// cgspawn-* units of the caller's manager with no record in `ledger` (none without systemd).
std::vector<Orphan> find_orphan_units(const Ledger& ledger);

// A recorded scope or service unit, destroyed and verified from its record (owner gone).
ResourceOutcome destroy_recorded_systemd_unit(const ResourceRecord& resource, const DestroyOptions& options);

}  // namespace cgspawn
