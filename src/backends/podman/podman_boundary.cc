// SPDX-License-Identifier: MIT
#include "backends/podman/podman_boundary.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "backends/podman/container_verify.hpp"
#include "backends/podman/podman_cli.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/destroy.hpp"
#include "cgroup/parent.hpp"
#include "cgspawn/error.hpp"
#include "hang/hang_report.hpp"
#include "util/logger.hpp"
#include "util/proc_info.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

// Once the container is gone, its log ends; a `podman logs -f` that hangs on is only ours to
// kill.
void reap(Launched& child) {
  if (!child.pidfd.valid()) return;
  if (wait_readable(child.pidfd.get(), Clock::now() + std::chrono::seconds(2)) != WaitResult::ready)
    ::kill(child.pid, SIGKILL);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED);
  child.pidfd.reset();
}

// Only the task cgroup exists (podman made nothing, or refused a name that is someone else's).
ResourceOutcome destroy_task_cgroup(const std::string& path, const DestroyOptions& options) {
  try {
    return destroy_cgroup(Cgroup::open(path), options).row;
  } catch (const Error& e) {
    ResourceOutcome row;
    row.resource = {ResourceKind::cgroup, path};
    row.outcome = ::access(path.c_str(), F_OK) == 0 ? Outcome::failed : Outcome::already_gone;
    row.detail = e.what();
    return row;
  }
}

}  // namespace

PodmanBoundary::PodmanBoundary(ContainerRef ref, ParentPruning parents)
    : ref_(std::move(ref)), parents_(std::move(parents)) {
  ref_.keep = false;
}

void PodmanBoundary::follow(std::optional<ContainerLogFile> log, int stdout_fd, int stderr_fd, bool keep) {
  ref_.keep = keep;
  end_ = std::make_shared<ConmonEnd>(ref_);
  if (log) {
    std::optional<ContainerLog::DirWatch> exit_file;
    if (!end_->exit_dir().empty())
      exit_file = ContainerLog::DirWatch{end_->exit_dir(), [end = end_] { end->check(); }};
    log_ = ContainerLog(std::move(log->fd()), stdout_fd, stderr_fd, std::move(exit_file));
  } else {
    logs_ = start_podman({"logs", "-f", ref_.id}, stdout_fd, stderr_fd);
  }
}

int PodmanBoundary::poll_fd() const {
  return end_ ? end_->fd() : -1;
}

bool PodmanBoundary::container_ended() const {
  if (!end_) return false;
  pollfd p{end_->fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

// The container's own exit code, from conmon's exit file or else podman's record of it.
// Unknown (left empty rather than guessed) when podman has none: conmon was killed while the
// container ran, which loses it.
ExitStatus PodmanBoundary::container_exit() const {
  ExitStatus status;
  if ((status.code = end_->exit_code())) return status;
  try {
    PodmanOutput out =
        run_podman({"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", ref_.target()});
    std::istringstream in(out.out);
    std::string state;
    int code = 0;
    if (!out.ok() || !(in >> state >> code))
      logger().warn("task {}: no exit status from podman: {}", ref_.task_id, out.error_text());
    else if (state == "running")
      logger().warn("task {}: its conmon ended while the container ran: podman has no exit status",
                    ref_.task_id);
    else
      status.code = code;
  } catch (const Error& e) {
    logger().warn("task {}: no exit status from podman: {}", ref_.task_id, e.what());
  }
  return status;
}

std::optional<MainExit> PodmanBoundary::peek_exit() {
  if (!exit_ && container_ended()) exit_ = container_exit();
  if (!exit_) return std::nullopt;
  return MainExit{*exit_};
}

std::optional<HangReport> PodmanBoundary::hang_report() {
  if (!container_may_exist_ || ref_.container_cgroup.rfind(ref_.cgroup_parent, 0) != 0) return std::nullopt;
  // The container's own cgroup2 node, below the task cgroup (podman's --cgroup-parent).
  std::string path = ref_.task_cgroup + ref_.container_cgroup.substr(ref_.cgroup_parent.size());
  try {
    return take_hang_report(Cgroup::open(path));
  } catch (const Error&) {
    return std::nullopt;  // podman has removed it: nothing runs
  }
}

std::vector<ResourceOutcome> PodmanBoundary::destroy(const DestroyOptions& options, Usage& usage) {
  std::vector<ResourceOutcome> rows;
  if (!container_may_exist_) {
    rows.push_back(destroy_task_cgroup(ref_.task_cgroup, options));
  } else {
    // An ended container's log is complete: let `podman logs -f` print all of it before the
    // container, and its log file with it, is removed (else a short task's output is lost).
    if (exit_ && logs_.pidfd.valid())
      wait_readable(logs_.pidfd.get(), Clock::now() + std::chrono::seconds(5));
    ContainerCleanup cleanup = destroy_container(ref_, options);
    usage = cleanup.usage;
    rows = {std::move(cleanup.container), std::move(cleanup.conmon), std::move(cleanup.cgroup)};
  }
  // conmon has exited (or is reported not gone): what it wrote is all there is, also what the
  // container printed while it was stopped.
  log_.finish();
  reap(logs_);
  prune_parents(ref_.task_cgroup.substr(0, ref_.task_cgroup.rfind('/')), parents_);
  return rows;
}

}  // namespace cgspawn
