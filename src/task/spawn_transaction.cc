// SPDX-License-Identifier: MIT
#include "task/spawn_transaction.hpp"

#include "cgspawn/error.hpp"
#include "task/owner_watch.hpp"
#include "task/spawned_task.hpp"
#include "util/crash_point.hpp"
#include "util/logger.hpp"

namespace cgspawn {

SpawnTransaction::SpawnTransaction(const Recording& how, const TaskSpec& spec, const std::string& backend,
                                   std::vector<ResourceRecord> intended)
    : keeper_(how, new_task_record(spec, backend, how.owner, std::move(intended))), backend_(backend) {
  if (spec.bound_to) bind(spec.bound_to);
  keeper_.create();  // before anything exists: a crash from here on is found by reap
  if (keeper_.recording()) crash_point("spawn-after-intent");
  // The bound process may have died before the record was written, and its watcher looked:
  // then the task must not start at all.
  if (record().bound_to && !owner_alive(*record().bound_to)) {
    keeper_.forget();
    throw Error(ErrorKind::invalid_argument,
                "the process " + std::to_string(spec.bound_to) + " the task is bound to has died");
  }
}

// A watcher for the bound process runs before the task is recorded, so that its death is
// seen from the first moment the task exists.
void SpawnTransaction::bind(int pid) {
  if (!keeper_.recording())
    throw Error(ErrorKind::invalid_argument, "a task bound to a process (bound_to) needs a ledger");
  record().bound_to = bound_process(pid);
  ensure_watcher(*keeper_.ledger(), *record().bound_to);
}

SpawnTransaction::~SpawnTransaction() {
  if (!committed_) unwind();
}

void SpawnTransaction::add_storage(ResourceRecord resource,
                                   std::function<ResourceOutcome(const ResourceRecord&)> destroy) {
  storage_.push_back({record().resources.size(), std::move(destroy)});
  record().resources.push_back(std::move(resource));
  save();
}

void SpawnTransaction::drop_storage() {
  if (storage_.empty()) return;
  record().resources.erase(record().resources.begin() + static_cast<std::ptrdiff_t>(storage_.back().index));
  storage_.pop_back();
  save();
}

std::unique_ptr<Task> SpawnTransaction::commit(TaskSpec spec, Clock::time_point started) {
  record().state = TaskState::running;
  save();
  if (keeper_.recording()) crash_point("spawn-after-launch");
  committed_ = true;
  return std::make_unique<SpawnedTask>(std::move(spec), backend_, std::move(boundary_), started,
                                       std::move(keeper_), std::move(storage_));
}

// Everything the failed spawn made goes, verified; the record goes only if it did.
void SpawnTransaction::unwind() noexcept {
  std::vector<ResourceOutcome> rows;
  try {
    if (boundary_) {
      DestroyOptions now;
      now.grace = Duration::zero();
      Usage ignored;
      rows = boundary_->destroy(now, ignored);
      boundary_->reap_main(std::nullopt);
    }
    destroy_storage(storage_, record().resources, rows);
    for (auto undo = undos_.rbegin(); undo != undos_.rend(); ++undo) (*undo)();
  } catch (const std::exception& e) {
    logger().error("task {}: undoing a failed spawn: {}", record().id, e.what());
  }
  CleanupReport report{rows};
  if (report.complete()) {
    try {
      keeper_.forget();
    } catch (const std::exception& e) {
      logger().error("task {}: cannot remove the record of a failed spawn: {}", record().id, e.what());
    }
    return;
  }
  for (const auto& row : rows)
    if (row.outcome == Outcome::failed || row.outcome == Outcome::not_guaranteed)
      logger().error("task {}: a failed spawn left {} {}: {}", record().id, to_string(row.resource.kind),
                     row.resource.id, row.detail);
  keeper_.leave_for_reap(rows);
}

}  // namespace cgspawn
