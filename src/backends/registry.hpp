// SPDX-License-Identifier: MIT
// The table of backends, and of how each kind of Resource is destroyed from its ledger record
// (when the task's owner is gone). A new backend adds one row to each table in registry.cc;
// nothing else in the library names a backend.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cgspawn/backends.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/recorded_tasks.hpp"

namespace cgspawn {

struct BackendEntry {
  const char* name;
  std::unique_ptr<Spawner> (*make)(const BackendOptions&);
  Capabilities (*capabilities)(const BackendOptions&);
  // What this backend made that no record of the ledger names (a lost record); nullptr when
  // the backend has nothing of its own naming to look for.
  std::vector<Orphan> (*find_orphans)(const Ledger&);
};

const std::vector<BackendEntry>& backend_table();

// Destroys one recorded resource, verifying it is gone. Never throws.
using ResourceDestroyer = ResourceOutcome (*)(const ResourceRecord&, const DestroyOptions&);

// nullptr for a kind nobody destroys directly (its row then says so).
ResourceDestroyer destroyer_for(ResourceKind kind);

}  // namespace cgspawn
