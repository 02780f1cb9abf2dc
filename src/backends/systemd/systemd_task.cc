#include "backends/systemd/systemd_task.hpp"

#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include "backends/finish_on_drop.hpp"
#include "backends/task_result.hpp"
#include "cgroup/usage.hpp"
#include "launch/main_exit.hpp"
#include "util/crash_point.hpp"

namespace cgspawn::systemd {

SystemdTask::SystemdTask(TaskSpec spec, std::unique_ptr<Manager> manager, UnitRef unit, Launched main,
                         std::unique_ptr<Anchor> anchor, TaskRecordRef record)
    : spec_(std::move(spec)),
      manager_(std::move(manager)),
      unit_(std::move(unit)),
      main_(std::move(main)),
      anchor_(std::move(anchor)),
      record_(std::move(record)) {}

SystemdTask::~SystemdTask() {
  if (!finished_) finish_on_drop(*this);
}

// The main process stays a zombie (WNOWAIT) until finish(), so its pid is not reused while
// destroy may still look for it.
std::optional<ExitStatus> SystemdTask::peek_exit(bool block) {
  if (exit_) return exit_;
  exit_ = peek_main_exit(main_.pidfd.get(), block);
  if (!exit_) return std::nullopt;
  ended_ = Clock::now();
  return exit_;
}

std::optional<ExitStatus> SystemdTask::try_wait() { return peek_exit(false); }

Result SystemdTask::wait() {
  auto deadline = spec_.timeout ? main_.started + *spec_.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(main_.pidfd.get(), deadline);
  DestroyOptions options;
  options.grace = spec_.grace;
  return finish(options, r == WaitResult::ready ? ExitReason::destroyed : ExitReason::timed_out);
}

void SystemdTask::reap_main(ExitReason reason_if_running, bool was_running) {
  exit_ = reap_main_exit(main_.pidfd.get(), exit_, std::chrono::seconds(1));
  if (!ended_) ended_ = Clock::now();
  if (!exit_) exit_ = ExitStatus{};
  if (was_running) exit_->reason = reason_if_running;
}

void record_task_result(TaskRecordRef& ref, const Result& result) {
  if (ref.ledger) record_finished(*ref.ledger, ref.record, result, ref.keep);
}

Result SystemdTask::finish(const DestroyOptions& options, ExitReason reason_if_running) {
  if (finished_) throw Error(ErrorKind::invalid_argument, "task " + spec_.id + " is already finished");
  finished_ = true;
  bool was_running = !peek_exit(false).has_value();
  Result result = result_for(spec_, backend_);
  UnitDestroyHooks hooks;
  hooks.spare_pid = anchor_ ? anchor_->pid() : 0;
  hooks.before_kill = [&result](const Cgroup& cg) { result.usage = read_usage(cg); };
  crash_point("finish-before-destroy");
  ResourceOutcome row = destroy_unit(*manager_, unit_, options, hooks);
  if (anchor_) anchor_->end();
  reap_main(reason_if_running, was_running);
  result.exit = *exit_;
  result.usage.wall_seconds = seconds_between(main_.started, *ended_);
  spdlog::debug("task {}: {} {} in {:.3f}s", spec_.id, row.resource.id, to_string(row.outcome), row.seconds);
  result.cleanup.resources.push_back(std::move(row));
  record_task_result(record_, result);
  return result;
}

}  // namespace cgspawn::systemd
