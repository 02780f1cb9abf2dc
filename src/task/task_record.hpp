// SPDX-License-Identifier: MIT
// The ledger record of one task, kept from its spawn (intent, before anything exists) to its
// finish (removed once the cleanup is complete, or kept with the Result).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cgspawn/backends.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/result.hpp"
#include "cgspawn/task_spec.hpp"

namespace cgspawn {

// How a spawner records its tasks.
struct Recording {
  std::shared_ptr<const Ledger> ledger;  // null: the tasks are not recorded
  OwnerKind owner = OwnerKind::library;
  bool keep = false;     // the record stays, with the Result, after finish (for `cgspawn start`)
  bool durable = false;  // every write fsynced: the resources outlive a reboot of this machine
};

Recording recording_of(const BackendOptions& options, bool durable);

// The record of a task about to start: id, backend, argv, labels and stdio paths from the
// spec, this process as its owner, the time now, and the resources it is about to make.
TaskRecord new_task_record(const TaskSpec& spec, const std::string& backend, OwnerKind owner,
                           std::vector<ResourceRecord> intended);

class TaskRecordKeeper {
 public:
  TaskRecordKeeper() = default;  // nothing recorded
  TaskRecordKeeper(Recording how, TaskRecord record);

  bool recording() const { return how_.ledger != nullptr; }
  const Ledger* ledger() const { return how_.ledger.get(); }
  TaskRecord& record() { return record_; }

  void create();  // the first record of the id (throws invalid_argument when it is taken)
  void save();    // replaces the record (throws naming the file)
  void forget();  // removes the record and the task's directory

  // After the task's finish: a complete cleanup removes the record (unless `keep`: it then
  // stays, state exited, with the Result until `destroy` collects it); otherwise the record
  // keeps the Result and marks each resource by its row, for `reap`. Never throws: logged.
  void finished(const Result& result) noexcept;

  // A spawn that failed and could not verify everything gone: the record stays, its resources
  // marked by `rows`, for `reap`. Never throws: logged.
  void leave_for_reap(const std::vector<ResourceOutcome>& rows) noexcept;

 private:
  void mark(const std::vector<ResourceOutcome>& rows, bool complete);

  Recording how_;
  TaskRecord record_;
};

}  // namespace cgspawn
