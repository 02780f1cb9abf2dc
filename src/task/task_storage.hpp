// SPDX-License-Identifier: MIT
// What a task holds besides its boundary: its scratch directory, here or on a remote host. Its
// row sits in the task's record after the boundary's own; it is destroyed after the boundary
// (a container goes first, then the directory mounted into it), by the backend's destroyer.
#pragma once

#include <cstddef>
#include <functional>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn {

class SpawnTransaction;
struct TaskSpec;

struct StorageRow {
  std::size_t index = 0;  // of its resource in the task's record
  std::function<ResourceOutcome(const ResourceRecord&)> destroy;
};

// Destroys each row's resource and puts its outcome at the row's place among `rows` (which hold
// the boundary's outcomes in record order): rows and record stay aligned.
void destroy_storage(const std::vector<StorageRow>& storage, const std::vector<ResourceRecord>& recorded,
                     std::vector<ResourceOutcome>& rows);

// --scratch on this host (process, systemd, podman): recorded, then made; removed if the spawn
// unwinds and at destroy. A directory that exists already is refused and never touched.
void attach_local_scratch(SpawnTransaction& txn, const TaskSpec& spec);

}  // namespace cgspawn
