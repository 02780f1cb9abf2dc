// SPDX-License-Identifier: MIT
#include "task/task_record.hpp"

#include <chrono>

#include "util/crash_point.hpp"
#include "util/logger.hpp"

namespace cgspawn {
namespace {

bool gone(Outcome o) {
  return o == Outcome::destroyed || o == Outcome::already_gone || o == Outcome::kept;
}

}  // namespace

Recording recording_of(const BackendOptions& options, bool durable) {
  return {options.ledger, options.owner_kind, options.keep_record, durable};
}

TaskRecord new_task_record(const TaskSpec& spec, const std::string& backend, OwnerKind owner,
                           std::vector<ResourceRecord> intended) {
  TaskRecord record;
  record.id = spec.id;
  record.backend = backend;
  record.argv = spec.argv;
  record.labels = spec.labels;
  record.stdout_path = spec.stdout_path;
  record.stderr_path = spec.stderr_path;
  record.owner = self_owner(owner);
  record.resources = std::move(intended);
  record.created_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return record;
}

TaskRecordKeeper::TaskRecordKeeper(Recording how, TaskRecord record)
    : how_(std::move(how)), record_(std::move(record)) {}

void TaskRecordKeeper::create() {
  if (recording()) how_.ledger->create(record_, how_.durable);
}

void TaskRecordKeeper::save() {
  if (recording()) how_.ledger->update(record_, how_.durable);
}

void TaskRecordKeeper::forget() {
  if (recording()) how_.ledger->remove(record_.id);
}

// Rows and resources are in the same order; if their numbers differ, all go by completeness.
// The boundary's rows come first, in the record's order; after them, what destroy found (processes
// that left the boundary, SysV IPC), recorded now by kind and id.
void TaskRecordKeeper::mark(const std::vector<ResourceOutcome>& rows, bool complete) {
  std::size_t recorded = record_.resources.size();
  bool aligned = rows.size() >= recorded;
  for (size_t i = 0; i < recorded; ++i) {
    bool is_gone = aligned ? gone(rows[i].outcome) : complete;
    record_.resources[i].state = is_gone ? ResourceState::destroyed : ResourceState::failed;
  }
  for (size_t i = recorded; aligned && i < rows.size(); ++i)
    record_.resources.push_back(
        {rows[i].resource, gone(rows[i].outcome) ? ResourceState::destroyed : ResourceState::failed, {}});
}

void TaskRecordKeeper::finished(const Result& result) noexcept {
  if (!recording()) return;
  crash_point("finish-before-record");
  bool complete = result.cleanup.complete();
  try {
    if (complete && !how_.keep) {
      forget();
      return;
    }
    record_.state = TaskState::exited;
    record_.result = result;
    mark(result.cleanup.resources, complete);
    save();
  } catch (const std::exception& e) {
    logger().error("task {}: cannot update its ledger record: {}", record_.id, e.what());
  }
}

void TaskRecordKeeper::leave_for_reap(const std::vector<ResourceOutcome>& rows) noexcept {
  if (!recording()) return;
  try {
    mark(rows, false);
    save();
  } catch (const std::exception& e) {
    logger().error("task {}: cannot mark its ledger record for reap: {}", record_.id, e.what());
  }
}

}  // namespace cgspawn
