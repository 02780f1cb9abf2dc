// SPDX-License-Identifier: MIT
#include "launch/held_child.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "launch/child_exec.hpp"
#include "util/pidfd.hpp"
#include "util/pipe.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

void kill_and_reap(pid_t pid, int pidfd) {
  if (pid <= 0 || pidfd < 0) return;
  signal_pidfd(pidfd, SIGKILL);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
}

// A handle on a child just forked, or the child killed and reaped and Error(system) thrown.
UniqueFd pidfd_of_child(pid_t pid, const std::string& what) {
  UniqueFd fd = open_pidfd(pid);
  if (fd.valid()) return fd;
  int err = errno;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  throw_sys("pidfd_open of " + what, err);
}

}  // namespace

HeldChild::HeldChild(const LaunchRequest& request) : request_(request) {
  Pipe go = make_pipe(), report = make_pipe();
  go_ = std::move(go.write);
  report_ = std::move(report.read);
  ChildPlan plan = make_child_plan(request_, report.write.get());
  plan.go_fd = go.read.get();
  launched_.started = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) child_exec(plan);
  if (pid < 0) throw_sys("start the task (fork)", errno);
  launched_.pidfd = pidfd_of_child(pid, "the task's main process");
  launched_.pid = pid;
}

HeldChild::~HeldChild() {
  if (go_.valid()) kill_and_reap(launched_.pid, launched_.pidfd.get());
}

Launched HeldChild::release() {
  launched_.started = std::chrono::steady_clock::now();
  char go = 1;
  if (::write(go_.get(), &go, 1) != 1) throw_sys("release the task's main process", errno);
  go_.reset();
  if (std::optional<ChildFailure> failure = read_child_failure(report_.get())) {
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(launched_.pidfd.get()), &info, WEXITED);
    throw child_error(*failure, request_);
  }
  return std::move(launched_);
}

Anchor::Anchor() {
  Pipe hold = make_pipe();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Holds nothing of the caller's open: only the pipe it waits on.
    ::dup2(hold.read.get(), 3);
    ::syscall(SYS_close_range, 4u, ~0u, 0u);
    ::prctl(PR_SET_NAME, "cgspawn-anchor");
    // The caller may block or ignore SIGTERM (a signalfd): the anchor must die of KillUnit's.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGTERM, SIG_DFL);
    char c;
    while (::read(3, &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  if (pid < 0) throw_sys("fork the scope's anchor", errno);
  pidfd_ = pidfd_of_child(pid, "the scope's anchor");
  pid_ = pid;
  hold_ = std::move(hold.write);
}

void Anchor::end() {
  if (pid_ <= 0) return;
  hold_.reset();
  kill_and_reap(pid_, pidfd_.get());
  pid_ = -1;
}

Anchor::~Anchor() {
  end();
}

}  // namespace cgspawn
