#include "backends/podman/podman_task.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <sstream>

#include "backends/finish_on_drop.hpp"
#include "backends/podman/container_verify.hpp"
#include "backends/podman/podman_cli.hpp"
#include "backends/task_result.hpp"
#include "cgroup/parent.hpp"
#include "cgspawn/error.hpp"
#include "util/crash_point.hpp"

namespace cgspawn {

PodmanTask::PodmanTask(TaskSpec spec, ContainerRef ref, Launched logs, Launched waiter, UniqueFd waiter_out,
                       Clock::time_point started, std::vector<std::string> prune_dirs)
    : spec_(std::move(spec)),
      ref_(std::move(ref)),
      logs_(std::move(logs)),
      waiter_(std::move(waiter)),
      waiter_out_(std::move(waiter_out)),
      started_(started),
      prune_dirs_(std::move(prune_dirs)) {}

PodmanTask::~PodmanTask() {
  if (!finished_) finish_on_drop(*this);
}

// `podman wait` ends when the container does (it stays a zombie until reap()).
bool PodmanTask::waiter_ended() const {
  siginfo_t info{};
  return ::waitid(P_PIDFD, static_cast<id_t>(waiter_.pidfd.get()), &info, WEXITED | WNOWAIT | WNOHANG) == 0 &&
         info.si_pid != 0;
}

// The container's own exit code: what `podman wait` printed, else podman's record of it. An
// unknown status is left empty rather than guessed.
ExitStatus PodmanTask::container_exit() {
  ExitStatus status;
  char buf[64] = {};
  ssize_t n = ::read(waiter_out_.get(), buf, sizeof buf - 1);
  waiter_out_.reset();
  try {
    if (n > 0) {
      status.code = std::stoi(buf);
      return status;
    }
  } catch (const std::exception&) {
  }
  try {
    PodmanOutput out = run_podman({"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", ref_.target()});
    std::istringstream in(out.out);
    std::string state;
    int code = 0;
    if (out.ok() && (in >> state >> code) && state != "running") status.code = code;
    else spdlog::warn("task {}: no exit status from podman: {}", spec_.id, out.error_text());
  } catch (const Error& e) {
    spdlog::warn("task {}: no exit status from podman: {}", spec_.id, e.what());
  }
  return status;
}

std::optional<ExitStatus> PodmanTask::try_wait() {
  if (exit_) return exit_;
  if (!waiter_ended()) return std::nullopt;
  ended_ = Clock::now();
  exit_ = container_exit();
  return exit_;
}

Result PodmanTask::wait() {
  auto deadline = spec_.timeout ? started_ + *spec_.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(waiter_.pidfd.get(), deadline);
  DestroyOptions options;
  options.grace = spec_.grace;
  return finish(options, r == WaitResult::ready ? ExitReason::destroyed : ExitReason::timed_out);
}

// Once the container is gone, its log ends and `podman wait` returns; a helper that hangs on
// is only ours to kill.
void PodmanTask::reap(Launched& child) {
  if (!child.pidfd.valid()) return;
  if (wait_readable(child.pidfd.get(), Clock::now() + std::chrono::seconds(2)) != WaitResult::ready)
    ::kill(child.pid, SIGKILL);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED);
  child.pidfd.reset();
}

void PodmanTask::attach_record(std::shared_ptr<const Ledger> ledger, TaskRecord record, bool keep) {
  ledger_ = std::move(ledger);
  record_ = std::move(record);
  keep_record_ = keep;
}

void PodmanTask::record_result(const Result& result) {
  if (ledger_) record_finished(*ledger_, record_, result, keep_record_, true);
}

Result PodmanTask::finish(const DestroyOptions& options, ExitReason reason_if_running) {
  if (finished_) throw Error(ErrorKind::invalid_argument, "task " + spec_.id + " is already finished");
  finished_ = true;
  bool was_running = !try_wait().has_value();
  // An ended container's log is complete: let `podman logs -f` print all of it before the
  // container, and its log file with it, is removed (a short task's output was lost so).
  if (!was_running && logs_.pidfd.valid()) wait_readable(logs_.pidfd.get(), Clock::now() + std::chrono::seconds(5));
  crash_point("finish-before-destroy");
  ContainerCleanup cleanup = destroy_container(ref_, options);
  crash_point("finish-after-destroy");
  reap(logs_);
  reap(waiter_);
  remove_empty(prune_dirs_);
  if (!ended_) ended_ = Clock::now();
  Result result = result_for(spec_, backend_);
  result.exit = exit_.value_or(ExitStatus{});
  if (was_running) result.exit.reason = reason_if_running;
  result.usage = cleanup.usage;
  result.usage.wall_seconds = seconds_between(started_, *ended_);
  result.cleanup.resources = {std::move(cleanup.container), std::move(cleanup.conmon), std::move(cleanup.cgroup)};
  record_result(result);
  return result;
}

}  // namespace cgspawn
