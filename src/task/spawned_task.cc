// SPDX-License-Identifier: MIT
#include "task/spawned_task.hpp"

#include <spdlog/spdlog.h>

#include "util/crash_point.hpp"

namespace cgspawn {
namespace {

Result identity(const TaskSpec& spec, const std::string& backend) {
  Result result;
  result.id = spec.id;
  result.backend = backend;
  result.argv = spec.argv;
  result.labels = spec.labels;
  return result;
}

}  // namespace

SpawnedTask::SpawnedTask(TaskSpec spec, std::string backend, std::unique_ptr<Boundary> boundary,
                         Clock::time_point started, TaskRecordKeeper record)
    : spec_(std::move(spec)),
      backend_(std::move(backend)),
      boundary_(std::move(boundary)),
      started_(started),
      record_(std::move(record)) {}

SpawnedTask::~SpawnedTask() {
  if (result_) return;
  try {
    DestroyOptions now;
    now.grace = Duration::zero();
    finish(now, ExitReason::destroyed);
  } catch (const std::exception& e) {
    spdlog::error("task {}: destroy on drop failed: {}", spec_.id, e.what());
  }
}

std::optional<ExitStatus> SpawnedTask::try_wait() {
  if (!exit_) exit_ = boundary_->peek_exit();
  if (!exit_) return std::nullopt;
  return exit_->status;
}

Result SpawnedTask::wait() {
  auto deadline = spec_.timeout ? started_ + *spec_.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(poll_fd(), deadline);
  DestroyOptions options;
  options.grace = spec_.grace;
  return finish(options, r == WaitResult::ready ? ExitReason::destroyed : ExitReason::timed_out);
}

Result SpawnedTask::finish(const DestroyOptions& options, ExitReason reason_if_running) {
  if (result_) return *result_;
  bool was_running = !try_wait().has_value();
  Result result = identity(spec_, backend_);
  result.main_pid = record_.record().main_pid;
  crash_point("finish-before-destroy");
  result.cleanup.resources = boundary_->destroy(options, result.usage);
  crash_point("finish-after-destroy");
  std::optional<ExitStatus> status =
      boundary_->reap_main(exit_ ? std::optional(exit_->status) : std::nullopt);
  Clock::time_point ended = exit_ ? exit_->at : Clock::now();
  result.exit = status.value_or(ExitStatus{});
  if (was_running) result.exit.reason = reason_if_running;
  result.usage.wall_seconds = seconds_between(started_, ended);
  for (const auto& row : result.cleanup.resources)
    spdlog::debug("task {}: {} {} in {:.3f}s", spec_.id, row.resource.id, to_string(row.outcome),
                  row.seconds);
  record_.finished(result);
  result_ = result;
  return result;
}

}  // namespace cgspawn
