// SPDX-License-Identifier: MIT
#include "task/task_storage.hpp"

#include <algorithm>

#include "storage/scratch.hpp"
#include "task/spawn_transaction.hpp"

namespace cgspawn {

void destroy_storage(const std::vector<StorageRow>& storage, const std::vector<ResourceRecord>& recorded,
                     std::vector<ResourceOutcome>& rows) {
  for (const auto& s : storage) {
    if (s.index >= recorded.size()) continue;
    ResourceOutcome row = s.destroy(recorded[s.index]);
    rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(std::min(s.index, rows.size())), std::move(row));
  }
}

void attach_local_scratch(SpawnTransaction& txn, const TaskSpec& spec) {
  if (!spec.scratch) return;
  std::string path = scratch_path(spec);
  txn.add_storage(scratch_record(path, spec.keep_scratch), remove_scratch);
  try {
    make_scratch(path);
    txn.record().resources.back().state = ResourceState::created;  // saved with the next write
  } catch (...) {
    txn.drop_storage();  // not ours: never removed
    throw;
  }
}

}  // namespace cgspawn
