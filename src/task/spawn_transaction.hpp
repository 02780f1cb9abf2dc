// SPDX-License-Identifier: MIT
// SpawnTransaction: the ledger steps of one spawn as one object. The intent record is written
// before anything exists; the backend adopts its Boundary as soon as the first resource
// exists; commit() hands both to the Task. If the spawn unwinds before commit, the
// transaction destroys what was made (the launched task included: killed and reaped) and
// removes the record, or, where that destroy could not verify everything gone, leaves the
// record for `reap`. "spawn throws and leaves nothing behind" is this destructor's job.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cgspawn/spawner.hpp"
#include "task/boundary.hpp"
#include "task/task_record.hpp"
#include "task/task_storage.hpp"
#include "util/deadline.hpp"

namespace cgspawn {

class SpawnTransaction {
 public:
  // Writes the intent record (with a ledger), then crash point "spawn-after-intent".
  SpawnTransaction(const Recording& how, const TaskSpec& spec, const std::string& backend,
                   std::vector<ResourceRecord> intended);
  ~SpawnTransaction();
  SpawnTransaction(const SpawnTransaction&) = delete;
  SpawnTransaction& operator=(const SpawnTransaction&) = delete;

  // The record (kept in memory also without a ledger, then never written).
  TaskRecord& record() { return keeper_.record(); }
  const Ledger* ledger() const { return keeper_.ledger(); }
  void save() { keeper_.save(); }

  // Undone if the spawn unwinds, after the boundary's destroy, last registered first.
  void on_unwind(std::function<void()> undo) { undos_.push_back(std::move(undo)); }

  // From here on an unwinding spawn destroys `boundary`.
  template <typename B>
  B& adopt(std::unique_ptr<B> boundary) {
    B& ref = *boundary;
    boundary_ = std::move(boundary);
    return ref;
  }

  // A resource besides the boundary (a scratch directory): recorded now (saved), destroyed by
  // `destroy` after the boundary, at the end of the task or if the spawn unwinds.
  void add_storage(ResourceRecord resource, std::function<ResourceOutcome(const ResourceRecord&)> destroy);
  // The last add_storage was never made (it was someone else's): forgotten, never destroyed.
  void drop_storage();

  // The task runs: the record says so (state running; crash point "spawn-after-launch"), and
  // the Task takes the boundary and the record over.
  std::unique_ptr<Task> commit(TaskSpec spec, Clock::time_point started);

 private:
  void bind(int pid);
  void unwind() noexcept;

  TaskRecordKeeper keeper_;
  std::string backend_;
  std::unique_ptr<Boundary> boundary_;
  std::vector<std::function<void()>> undos_;
  std::vector<StorageRow> storage_;
  bool committed_ = false;
};

}  // namespace cgspawn
