#include "backends/systemd/service_task.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "backends/finish_on_drop.hpp"
#include "backends/systemd/bus.hpp"
#include "backends/task_result.hpp"
#include "cgroup/usage.hpp"
#include "util/crash_point.hpp"
#include "util/sys_error.hpp"

namespace cgspawn::systemd {
namespace {

constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";

// The main process's pidfd; if it is gone already, a pipe at EOF (readable at once, as a
// pidfd of an ended process is).
UniqueFd watch_fd(pid_t pid) {
  if (pid > 0) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) return UniqueFd(fd);
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_sys("pipe2", errno);
  ::close(fds[1]);
  return UniqueFd(fds[0]);
}

ExitStatus status_from(std::int32_t code, std::int32_t status) {
  ExitStatus s;
  if (code == CLD_EXITED) {
    s.code = status;
  } else {
    s.signal = status;
    s.reason = ExitReason::signaled;
  }
  return s;
}

}  // namespace

ServiceTask::ServiceTask(TaskSpec spec, std::unique_ptr<Manager> manager, UnitRef unit, pid_t main_pid,
                         Clock::time_point started, TaskRecordRef record)
    : spec_(std::move(spec)),
      manager_(std::move(manager)),
      unit_(std::move(unit)),
      watch_(watch_fd(main_pid)),
      started_(started),
      record_(std::move(record)) {}

ServiceTask::~ServiceTask() {
  if (!finished_) finish_on_drop(*this);
}

bool ServiceTask::main_ended() const {
  pollfd p{watch_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

// systemd records the exit when it has handled its SIGCHLD, just after the process ended:
// wait for ExecMainExitTimestampMonotonic, then read ExecMainCode and ExecMainStatus.
std::optional<ExitStatus> ServiceTask::exec_main_status() {
  try {
    auto path = manager_->get_unit(unit_.name);
    if (!path) return std::nullopt;
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (manager_->property(*path, kServiceInterface, "ExecMainExitTimestampMonotonic").get<std::uint64_t>() == 0) {
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto code = manager_->property(*path, kServiceInterface, "ExecMainCode").get<std::int32_t>();
    auto status = manager_->property(*path, kServiceInterface, "ExecMainStatus").get<std::int32_t>();
    return status_from(code, status);
  } catch (const sdbus::Error& e) {
    spdlog::warn("task {}: cannot read the exit status of {}: {}", spec_.id, unit_.name, describe(e));
    return std::nullopt;
  }
}

std::optional<ExitStatus> ServiceTask::try_wait() {
  if (exit_) return exit_;
  if (!main_ended()) return std::nullopt;
  ended_ = Clock::now();
  exit_ = exec_main_status().value_or(ExitStatus{});  // unreadable: no code, no signal
  return exit_;
}

Result ServiceTask::wait() {
  auto deadline = spec_.timeout ? started_ + *spec_.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(watch_.get(), deadline);
  DestroyOptions options;
  options.grace = spec_.grace;
  return finish(options, r == WaitResult::ready ? ExitReason::destroyed : ExitReason::timed_out);
}

Result ServiceTask::finish(const DestroyOptions& options, ExitReason reason_if_running) {
  if (finished_) throw Error(ErrorKind::invalid_argument, "task " + spec_.id + " is already finished");
  finished_ = true;
  bool was_running = !try_wait().has_value();
  Result result = result_for(spec_, backend_);
  UnitDestroyHooks hooks;
  hooks.before_kill = [&result](const Cgroup& cg) { result.usage = read_usage(cg); };
  // Killed by the destroy: its status is read before the stop unloads the unit.
  hooks.after_empty = [this] {
    if (!exit_) exit_ = exec_main_status();
  };
  crash_point("finish-before-destroy");
  ResourceOutcome row = destroy_unit(*manager_, unit_, options, hooks);
  if (!ended_) ended_ = Clock::now();
  if (!exit_) exit_ = ExitStatus{};
  if (was_running) exit_->reason = reason_if_running;
  result.exit = *exit_;
  result.usage.wall_seconds = seconds_between(started_, *ended_);
  result.cleanup.resources.push_back(std::move(row));
  record_task_result(record_, result);
  return result;
}

}  // namespace cgspawn::systemd
