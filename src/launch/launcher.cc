#include "launch/launcher.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "launch/syscalls.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

enum class Stage : int { join_cgroup = 1, stdio, chdir, exec };

struct ChildFailure {
  Stage stage;
  int err;
};

// Everything the child needs, prepared in the parent: after clone the child may only make
// async-signal-safe calls (no allocation).
struct ChildPlan {
  const char* program;
  std::vector<char*> argv;
  std::vector<char*> envp;
  const char* cwd;
  int stdio[3];
  int join_fd;  // cgroup.procs of the task cgroup (fork fallback), or -1
  bool new_process_group;
  int error_pipe;
};

std::vector<char*> c_strings(const std::vector<std::string>& items) {
  std::vector<char*> out;
  out.reserve(items.size() + 1);
  for (const auto& s : items) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void child_fail(const ChildPlan& plan, Stage stage) {
  ChildFailure failure{stage, errno};
  ssize_t ignored = ::write(plan.error_pipe, &failure, sizeof failure);
  (void)ignored;
  ::_exit(127);
}

// Moves the wanted fds out of the way first, so {stdout -> 0, stdin -> 1} swaps work.
void child_setup_stdio(const ChildPlan& plan) {
  int moved[3];
  for (int i = 0; i < 3; ++i) {
    moved[i] = plan.stdio[i] < 0 ? -1 : ::fcntl(plan.stdio[i], F_DUPFD_CLOEXEC, 3);
    if (plan.stdio[i] >= 0 && moved[i] < 0) child_fail(plan, Stage::stdio);
  }
  for (int i = 0; i < 3; ++i)
    if (moved[i] >= 0 && ::dup2(moved[i], i) < 0) child_fail(plan, Stage::stdio);
}

[[noreturn]] void child_exec(const ChildPlan& plan) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the caller may block signals for a signalfd
  if (plan.join_fd >= 0 && ::write(plan.join_fd, "0", 1) != 1) child_fail(plan, Stage::join_cgroup);
  if (plan.new_process_group) ::setpgid(0, 0);
  child_setup_stdio(plan);
  if (plan.cwd && ::chdir(plan.cwd) != 0) child_fail(plan, Stage::chdir);
  ::execve(plan.program, plan.argv.data(), plan.envp.data());
  child_fail(plan, Stage::exec);
}

bool clone3_unsupported(int err) { return err == ENOSYS || err == E2BIG || err == EOPNOTSUPP; }

// clone3 into the cgroup. Returns the child's pid in the parent (-1 with errno on failure).
pid_t clone_into_cgroup(const ChildPlan& plan, int cgroup_fd, int* pidfd) {
  clone_args args{};
  args.flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? static_cast<std::uint64_t>(cgroup_fd) : 0;
  long pid = sys::syscalls().clone3(&args, sizeof args);
  if (pid == 0) child_exec(plan);
  return static_cast<pid_t>(pid);
}

pid_t fork_and_join(const ChildPlan& plan, int* pidfd) {
  pid_t pid = ::fork();
  if (pid == 0) child_exec(plan);
  if (pid < 0) return -1;
  *pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (*pidfd >= 0) return pid;
  int err = errno;  // no pidfd, no safe handle on the child: do not let it run
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  errno = err;
  return -1;
}

Error error_for(const ChildFailure& failure, const LaunchRequest& request) {
  switch (failure.stage) {
    case Stage::exec:
      return Error(failure.err == ENOENT ? ErrorKind::not_found : ErrorKind::not_executable,
                   sys_message(request.program, failure.err));
    case Stage::chdir:
      return Error(ErrorKind::invalid_argument, sys_message("chdir " + request.cwd, failure.err));
    case Stage::stdio:
      return Error(ErrorKind::system, sys_message("set up stdin/stdout/stderr", failure.err));
    case Stage::join_cgroup:
      break;
  }
  return Error(ErrorKind::system, sys_message("join the task cgroup", failure.err));
}

// Waits for exec (the pipe closes) or a failure report; on failure reaps the child and throws.
void await_exec(int read_end, const Launched& launched, const LaunchRequest& request) {
  ChildFailure failure{};
  ssize_t n;
  do n = ::read(read_end, &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof failure)) return;  // closed by exec: it runs
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(launched.pidfd.get()), &info, WEXITED);
  throw error_for(failure, request);
}

}  // namespace

Launched launch(const LaunchRequest& request) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_sys("pipe2", errno);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  std::vector<std::string> argv = request.argv;
  ChildPlan plan{request.program.c_str(), c_strings(argv), c_strings(request.envp),
                 request.cwd.empty() ? nullptr : request.cwd.c_str(),
                 {request.stdio[0], request.stdio[1], request.stdio[2]}, -1,
                 request.new_process_group, write_end.get()};
  Launched launched;
  launched.started = std::chrono::steady_clock::now();
  int pidfd = -1;
  launched.pid = clone_into_cgroup(plan, request.cgroup_fd, &pidfd);
  launched.via_clone3 = launched.pid >= 0;
  // Whether the failure below is fork's (after clone3 was refused) or clone3's own: via_clone3
  // is false in both cases, so it cannot tell them apart (it named every failure "start the
  // task", hiding e.g. clone3's EPERM).
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
  write_end.reset();
  await_exec(read_end.get(), launched, request);
  return launched;
}

}  // namespace cgspawn
