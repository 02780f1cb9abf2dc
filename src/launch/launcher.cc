// SPDX-License-Identifier: MIT
#include "launch/launcher.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>

#include "launch/child_exec.hpp"
#include "util/pidfd.hpp"
#include "util/pipe.hpp"
#include "util/sys_error.hpp"
#include "util/syscalls.hpp"

namespace cgspawn {
namespace {

bool clone3_unsupported(int err) {
  return err == ENOSYS || err == E2BIG || err == EOPNOTSUPP;
}

[[noreturn]] void run_child(void* plan) {
  child_exec(*static_cast<const ChildPlan*>(plan));
}

// clone3 into the cgroup, vfork-style (the child shares our memory until its exec). Returns the
// child's pid once it has exec'd or failed (-1 with errno when there is no child).
pid_t clone_into_cgroup(const ChildPlan& plan, int cgroup_fd, int* pidfd) {
  // A child held for a go (HeldChild's) would hold us too: the caller sleeps until its exec.
  if (plan.go_fd >= 0) throw std::logic_error("launch() given a held child's plan");
  clone_args args{};
  args.flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? static_cast<std::uint64_t>(cgroup_fd) : 0;
  auto* shared = const_cast<ChildPlan*>(&plan);  // the child only reads it
  return static_cast<pid_t>(sys::syscalls().clone3(&args, sizeof args, run_child, shared));
}

pid_t fork_and_join(const ChildPlan& plan, int* pidfd) {
  pid_t pid = ::fork();
  if (pid == 0) child_exec(plan);
  if (pid < 0) return -1;
  UniqueFd fd = open_pidfd(pid);
  if (fd.valid()) {
    *pidfd = fd.release();
    return pid;
  }
  int err = errno;  // no pidfd, no safe handle on the child: do not let it run
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  errno = err;
  return -1;
}

// Waits for exec (the pipe closes) or a failure report; on failure reaps the child and throws.
void await_exec(int read_end, const Launched& launched, const LaunchRequest& request) {
  std::optional<ChildFailure> failure = read_child_failure(read_end);
  if (!failure) return;
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(launched.pidfd.get()), &info, WEXITED);
  throw child_error(*failure, request);
}

}  // namespace

Launched launch(const LaunchRequest& request) {
  Pipe errors = make_pipe();
  ChildPlan plan = make_child_plan(request, errors.write.get());
  Launched launched;
  launched.started = std::chrono::steady_clock::now();
  int pidfd = -1;
  launched.pid = clone_into_cgroup(plan, request.cgroup_fd, &pidfd);
  launched.via_clone3 = launched.pid >= 0;
  // Whether the failure below is fork's (after clone3 was refused) or clone3's own: via_clone3
  // is false in both cases, so the message names which call it was.
  bool fell_back = false;
  if (launched.pid < 0 && clone3_unsupported(errno)) {
    fell_back = true;
    UniqueFd join;
    if (request.cgroup_fd >= 0) {
      join.reset(::openat(request.cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
      if (!join.valid()) throw_sys("open cgroup.procs of the task cgroup", errno);
    }
    plan.join_fd = join.get();
    launched.pid = fork_and_join(plan, &pidfd);
  }
  if (launched.pid < 0) throw_sys(fell_back ? "start the task (fork)" : "start the task (clone3)", errno);
  launched.pidfd.reset(pidfd);
  errors.write.reset();
  await_exec(errors.read.get(), launched, request);
  return launched;
}

}  // namespace cgspawn
