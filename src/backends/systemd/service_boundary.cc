// SPDX-License-Identifier: MIT
#include "backends/systemd/service_boundary.hpp"

#include <poll.h>
#include <sys/wait.h>

#include <thread>

#include "cgroup/usage.hpp"
#include "util/logger.hpp"
#include "util/pidfd.hpp"
#include "util/pipe.hpp"

namespace cgspawn::systemd {
namespace {

constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";

// The main process's pidfd; if it is gone already, a pipe at EOF (readable at once, as a
// pidfd of an ended process is).
UniqueFd watch_fd(pid_t pid) {
  if (pid > 0) {
    if (UniqueFd fd = open_pidfd(pid); fd.valid()) return fd;
  }
  Pipe ended = make_pipe();
  return std::move(ended.read);
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

ServiceBoundary::ServiceBoundary(std::unique_ptr<Manager> manager, UnitRef unit)
    : manager_(std::move(manager)), unit_(std::move(unit)) {}

void ServiceBoundary::watch(pid_t main_pid) {
  watch_ = watch_fd(main_pid);
}

bool ServiceBoundary::main_ended() const {
  if (!watch_.valid()) return false;
  pollfd p{watch_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

// systemd records the exit when it has handled its SIGCHLD, just after the process ended:
// wait for ExecMainExitTimestampMonotonic, then read ExecMainCode and ExecMainStatus.
std::optional<ExitStatus> ServiceBoundary::exec_main_status() {
  try {
    auto path = manager_->get_unit(unit_.name);
    if (!path) return std::nullopt;
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (manager_->property<std::uint64_t>(*path, kServiceInterface, "ExecMainExitTimestampMonotonic") ==
           0) {
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto code = manager_->property<std::int32_t>(*path, kServiceInterface, "ExecMainCode");
    auto status = manager_->property<std::int32_t>(*path, kServiceInterface, "ExecMainStatus");
    return status_from(code, status);
  } catch (const Error& e) {
    logger().warn("{}: cannot read the exit status: {}", unit_.name, e.what());
    return std::nullopt;
  }
}

std::optional<MainExit> ServiceBoundary::peek_exit() {
  if (!main_ended()) return std::nullopt;
  if (!exit_) exit_ = exec_main_status().value_or(ExitStatus{});  // unreadable: no code, no signal
  return MainExit{*exit_};
}

std::vector<ResourceOutcome> ServiceBoundary::destroy(const DestroyOptions& options, Usage& usage) {
  UnitDestroyHooks hooks;
  hooks.before_kill = [&usage](const Cgroup& cg) { usage = read_usage(cg); };
  // Killed by the destroy: its status is read before the stop unloads the unit.
  hooks.after_empty = [this] {
    if (!exit_) exit_ = exec_main_status();
  };
  return {destroy_unit(*manager_, unit_, options, hooks)};
}

std::optional<ExitStatus> ServiceBoundary::reap_main(std::optional<ExitStatus> known) {
  return known ? known : exit_;
}

}  // namespace cgspawn::systemd
