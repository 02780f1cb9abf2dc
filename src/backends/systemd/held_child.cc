#include "backends/systemd/held_child.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

#include "util/sys_error.hpp"

namespace cgspawn::systemd {
namespace {

enum class Stage : int { stdio = 1, chdir, exec };
struct Failure {
  Stage stage;
  int err;
};

// Prepared before fork: the child may only make async-signal-safe calls.
struct Plan {
  const char* program;
  std::vector<char*> argv, envp;
  const char* cwd;
  int stdio[3];
  int go, report;
};

std::vector<char*> c_strings(const std::vector<std::string>& items) {
  std::vector<char*> out;
  for (const auto& s : items) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void fail(const Plan& plan, Stage stage) {
  Failure f{stage, errno};
  ssize_t ignored = ::write(plan.report, &f, sizeof f);
  (void)ignored;
  ::_exit(127);
}

[[noreturn]] void child_main(const Plan& plan) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  char go = 0;
  ssize_t n;
  do n = ::read(plan.go, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(126);  // never released: the spawn failed or cgspawn died
  int moved[3];
  for (int i = 0; i < 3; ++i) {
    moved[i] = plan.stdio[i] < 0 ? -1 : ::fcntl(plan.stdio[i], F_DUPFD_CLOEXEC, 3);
    if (plan.stdio[i] >= 0 && moved[i] < 0) fail(plan, Stage::stdio);
  }
  for (int i = 0; i < 3; ++i)
    if (moved[i] >= 0 && ::dup2(moved[i], i) < 0) fail(plan, Stage::stdio);
  if (plan.cwd && ::chdir(plan.cwd) != 0) fail(plan, Stage::chdir);
  ::execve(plan.program, plan.argv.data(), plan.envp.data());
  fail(plan, Stage::exec);
}

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void kill_and_reap(pid_t pid, int pidfd) {
  if (pid <= 0) return;
  if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  siginfo_t info{};
  if (pidfd >= 0) ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
}

Error error_for(const Failure& f, const LaunchRequest& request) {
  switch (f.stage) {
    case Stage::exec:
      return Error(f.err == ENOENT ? ErrorKind::not_found : ErrorKind::not_executable,
                   sys_message(request.program, f.err));
    case Stage::chdir:
      return Error(ErrorKind::invalid_argument, sys_message("chdir " + request.cwd, f.err));
    case Stage::stdio:
      break;
  }
  return Error(ErrorKind::system, sys_message("set up stdin/stdout/stderr", f.err));
}

}  // namespace

HeldChild::HeldChild(const LaunchRequest& request) : request_(request) {
  int go[2], report[2];
  if (::pipe2(go, O_CLOEXEC) != 0) throw_sys("pipe2", errno);
  UniqueFd go_read(go[0]);
  go_.reset(go[1]);
  if (::pipe2(report, O_CLOEXEC) != 0) throw_sys("pipe2", errno);
  report_.reset(report[0]);
  UniqueFd report_write(report[1]);
  Plan plan{request_.program.c_str(), c_strings(request_.argv), c_strings(request_.envp),
            request_.cwd.empty() ? nullptr : request_.cwd.c_str(),
            {request_.stdio[0], request_.stdio[1], request_.stdio[2]}, go_read.get(), report_write.get()};
  launched_.started = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) child_main(plan);
  if (pid < 0) throw_sys("start the task (fork)", errno);
  launched_.pid = pid;
  launched_.pidfd.reset(open_pidfd(pid));
  if (!launched_.pidfd.valid()) {
    int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    launched_.pid = -1;
    throw_sys("pidfd_open of the task's main process", err);
  }
}

HeldChild::~HeldChild() {
  if (go_.valid()) kill_and_reap(launched_.pid, launched_.pidfd.get());
}

Launched HeldChild::release() {
  launched_.started = std::chrono::steady_clock::now();
  char go = 1;
  if (::write(go_.get(), &go, 1) != 1) throw_sys("release the task's main process", errno);
  go_.reset();
  Failure f{};
  ssize_t n;
  do n = ::read(report_.get(), &f, sizeof f);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof f)) {
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(launched_.pidfd.get()), &info, WEXITED);
    throw error_for(f, request_);
  }
  return std::move(launched_);
}

Anchor::Anchor() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_sys("pipe2", errno);
  UniqueFd read_end(fds[0]);
  hold_.reset(fds[1]);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Holds nothing of the caller's open: only the pipe it waits on.
    ::dup2(read_end.get(), 3);
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
  pid_ = pid;
  pidfd_.reset(open_pidfd(pid));
  if (!pidfd_.valid()) {
    int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid_ = -1;
    throw_sys("pidfd_open of the scope's anchor", err);
  }
}

void Anchor::end() {
  if (pid_ <= 0) return;
  hold_.reset();
  kill_and_reap(pid_, pidfd_.get());
  pid_ = -1;
}

Anchor::~Anchor() { end(); }

}  // namespace cgspawn::systemd
