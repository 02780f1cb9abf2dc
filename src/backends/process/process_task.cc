#include "backends/process/process_task.hpp"

#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/finish_on_drop.hpp"
#include "backends/process/process_group.hpp"
#include "backends/task_result.hpp"
#include "cgroup/destroy.hpp"
#include "cgroup/parent.hpp"
#include "cgroup/usage.hpp"
#include "cgspawn/error.hpp"
#include "launch/main_exit.hpp"
#include "util/crash_point.hpp"

namespace cgspawn {
ProcessTask::ProcessTask(TaskSpec spec, std::optional<Cgroup> cgroup, Launched launched,
                         std::vector<std::string> prune_dirs)
    : spec_(std::move(spec)),
      cgroup_(std::move(cgroup)),
      main_(std::move(launched)),
      prune_dirs_(std::move(prune_dirs)),
      started_(main_.started) {}

ProcessTask::~ProcessTask() {
  if (!finished_) finish_on_drop(*this);
}

// The main process stays a zombie (WNOWAIT) until finish(), so its pid, and with no cgroup2
// its process group id, cannot be reused while destroy may still signal them.
std::optional<ExitStatus> ProcessTask::peek_exit(bool block) {
  if (exit_) return exit_;
  exit_ = peek_main_exit(main_.pidfd.get(), block);
  if (!exit_) return std::nullopt;
  ended_ = Clock::now();
  return exit_;
}

std::optional<ExitStatus> ProcessTask::try_wait() { return peek_exit(false); }

Result ProcessTask::wait() {
  auto deadline = spec_.timeout ? started_ + *spec_.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(main_.pidfd.get(), deadline);
  DestroyOptions options;
  options.grace = spec_.grace;
  return finish(options, r == WaitResult::ready ? ExitReason::destroyed : ExitReason::timed_out);
}

ResourceOutcome ProcessTask::destroy_boundary(const DestroyOptions& options, Usage& usage) {
  if (!cgroup_) return destroy_process_group(main_.pid, options);
  auto read = [&usage](const Cgroup& cg) { usage = read_usage(cg); };
  return destroy_cgroup(*cgroup_, options, read).row;
}

void ProcessTask::reap_main(ExitReason reason_if_running, bool was_running) {
  // After destroy the main process is dead (or listed as a survivor): wait briefly, then reap.
  exit_ = reap_main_exit(main_.pidfd.get(), exit_, std::chrono::seconds(1));
  if (!ended_) ended_ = Clock::now();
  if (!exit_) exit_ = ExitStatus{};  // survived even SIGKILL: no status to give
  if (was_running) exit_->reason = reason_if_running;
}

void ProcessTask::attach_record(std::shared_ptr<const Ledger> ledger, TaskRecord record, bool keep) {
  ledger_ = std::move(ledger);
  record_ = std::move(record);
  keep_record_ = keep;
}

// A complete cleanup leaves nothing for the ledger to track, unless the record is kept to
// carry the Result (until `cgspawn destroy` collects it). Otherwise the record says what is left.
void ProcessTask::record_result(const Result& result) {
  if (ledger_) record_finished(*ledger_, record_, result, keep_record_);
}

Result ProcessTask::finish(const DestroyOptions& options, ExitReason reason_if_running) {
  if (finished_) throw Error(ErrorKind::invalid_argument, "task " + spec_.id + " is already finished");
  finished_ = true;
  bool was_running = !peek_exit(false).has_value();
  Result result = result_for(spec_, backend_);
  crash_point("finish-before-destroy");
  ResourceOutcome row = destroy_boundary(options, result.usage);
  crash_point("finish-after-destroy");
  reap_main(reason_if_running, was_running);
  remove_empty(prune_dirs_);
  result.exit = *exit_;
  result.usage.wall_seconds = seconds_between(started_, *ended_);
  spdlog::debug("task {}: {} {} in {:.3f}s", spec_.id, row.resource.id, to_string(row.outcome), row.seconds);
  result.cleanup.resources.push_back(std::move(row));
  record_result(result);
  return result;
}

}  // namespace cgspawn
