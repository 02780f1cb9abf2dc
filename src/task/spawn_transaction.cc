// SPDX-License-Identifier: MIT
#include "task/spawn_transaction.hpp"

#include <spdlog/spdlog.h>

#include "task/spawned_task.hpp"
#include "util/crash_point.hpp"

namespace cgspawn {

SpawnTransaction::SpawnTransaction(const Recording& how, const TaskSpec& spec, const std::string& backend,
                                   std::vector<ResourceRecord> intended)
    : keeper_(how, new_task_record(spec, backend, how.owner, std::move(intended))), backend_(backend) {
  keeper_.create();  // before anything exists: a crash from here on is found by reap
  if (keeper_.recording()) crash_point("spawn-after-intent");
}

SpawnTransaction::~SpawnTransaction() {
  if (!committed_) unwind();
}

std::unique_ptr<Task> SpawnTransaction::commit(TaskSpec spec, Clock::time_point started) {
  record().state = TaskState::running;
  save();
  if (keeper_.recording()) crash_point("spawn-after-launch");
  committed_ = true;
  return std::make_unique<SpawnedTask>(std::move(spec), backend_, std::move(boundary_), started,
                                       std::move(keeper_));
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
    for (auto undo = undos_.rbegin(); undo != undos_.rend(); ++undo) (*undo)();
  } catch (const std::exception& e) {
    spdlog::error("task {}: undoing a failed spawn: {}", record().id, e.what());
  }
  CleanupReport report{rows};
  if (report.complete()) {
    try {
      keeper_.forget();
    } catch (const std::exception& e) {
      spdlog::error("task {}: cannot remove the record of a failed spawn: {}", record().id, e.what());
    }
    return;
  }
  for (const auto& row : rows)
    if (row.outcome == Outcome::failed || row.outcome == Outcome::not_guaranteed)
      spdlog::error("task {}: a failed spawn left {} {}: {}", record().id, to_string(row.resource.kind),
                    row.resource.id, row.detail);
  keeper_.leave_for_reap(rows);
}

}  // namespace cgspawn
