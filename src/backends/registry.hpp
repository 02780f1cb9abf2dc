// The table of backends, and of how each kind of Resource is destroyed from its ledger record
// (when the task's owner is gone). A new backend adds one row to each table in registry.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cgspawn/backends.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn {

struct BackendEntry {
  const char* name;
  std::unique_ptr<Spawner> (*make)(const BackendOptions&);
  Capabilities (*capabilities)(const BackendOptions&);
};

const std::vector<BackendEntry>& backend_table();

// Destroys one recorded resource, verifying it is gone. Never throws.
using ResourceDestroyer = ResourceOutcome (*)(const ResourceRecord&, const DestroyOptions&);

// nullptr for a kind nobody destroys directly (its row then says so).
ResourceDestroyer destroyer_for(const std::string& kind);

}  // namespace cgspawn
