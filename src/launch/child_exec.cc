// SPDX-License-Identifier: MIT
#include "launch/child_exec.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& items) {
  std::vector<char*> out;
  out.reserve(items.size() + 1);
  for (const auto& s : items) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void fail(const ChildPlan& plan, ChildStage stage) {
  ChildFailure failure{stage, errno};
  ssize_t ignored = ::write(plan.error_pipe, &failure, sizeof failure);
  (void)ignored;
  ::_exit(127);
}

void await_go(int fd) {
  char go = 0;
  ssize_t n;
  do n = ::read(fd, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(126);  // never released: the spawn failed or cgspawn died
}

bool needed_by(const ChildPlan& plan, int fd) {
  if (fd == plan.go_fd || fd == plan.join_fd || fd == plan.error_pipe) return true;
  for (int source : plan.stdio)
    if (fd == source) return true;
  return false;
}

int fd_number(const char* name) {
  int fd = 0;
  for (; *name; ++name) {
    if (*name < '0' || *name > '9') return -1;
    fd = fd * 10 + (*name - '0');
  }
  return fd;
}

// Closes what exec would close anyway, except the plan's own fds, before a wait of unbounded
// length: a descriptor of another of the caller's threads held here would keep its locks (an
// flock belongs to the open file, not to the process) and its pipes' ends open until the go.
// Raw getdents64 on a stack buffer: nothing here may allocate after a fork.
void close_cloexec_fds(const ChildPlan& plan) {
  int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;  // no /proc: the descriptors stay until exec, as before
  alignas(dirent64) char buffer[4096];
  long n;
  while ((n = ::syscall(SYS_getdents64, dir, buffer, sizeof buffer)) > 0) {
    for (long at = 0; at < n;) {
      auto* entry = reinterpret_cast<dirent64*>(buffer + at);
      at += entry->d_reclen;
      int fd = fd_number(entry->d_name);
      if (fd < 3 || fd == dir || needed_by(plan, fd)) continue;
      int flags = ::fcntl(fd, F_GETFD);
      if (flags >= 0 && (flags & FD_CLOEXEC)) ::close(fd);
    }
  }
  ::close(dir);
}

// Moves the wanted fds out of the way first, so {stdout -> 0, stdin -> 1} swaps work.
void set_up_stdio(const ChildPlan& plan) {
  int moved[3];
  for (int i = 0; i < 3; ++i) {
    moved[i] = plan.stdio[i] < 0 ? -1 : ::fcntl(plan.stdio[i], F_DUPFD_CLOEXEC, 3);
    if (plan.stdio[i] >= 0 && moved[i] < 0) fail(plan, ChildStage::stdio);
  }
  for (int i = 0; i < 3; ++i)
    if (moved[i] >= 0 && ::dup2(moved[i], i) < 0) fail(plan, ChildStage::stdio);
}

}  // namespace

ChildPlan make_child_plan(const LaunchRequest& request, int error_pipe) {
  return ChildPlan{request.program.c_str(),
                   c_strings(request.argv),
                   c_strings(request.envp),
                   request.cwd.empty() ? nullptr : request.cwd.c_str(),
                   {request.stdio[0], request.stdio[1], request.stdio[2]},
                   -1,
                   -1,
                   request.new_process_group,
                   error_pipe,
                   &request.isolation};
}

void child_exec(const ChildPlan& plan) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (plan.go_fd >= 0) {
    close_cloexec_fds(plan);
    await_go(plan.go_fd);
  }
  if (plan.join_fd >= 0 && ::write(plan.join_fd, "0", 1) != 1) fail(plan, ChildStage::join_cgroup);
  if (plan.new_process_group) ::setpgid(0, 0);
  if (!isolate(*plan.isolation)) fail(plan, ChildStage::isolate);
  set_up_stdio(plan);
  if (plan.cwd && ::chdir(plan.cwd) != 0) fail(plan, ChildStage::chdir);
  ::execve(plan.program, plan.argv.data(), plan.envp.data());
  fail(plan, ChildStage::exec);
}

std::optional<ChildFailure> read_child_failure(int error_read_end) {
  ChildFailure failure{};
  ssize_t n;
  do n = ::read(error_read_end, &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof failure)) return std::nullopt;  // closed by exec: it runs
  return failure;
}

Error child_error(const ChildFailure& failure, const LaunchRequest& request) {
  switch (failure.stage) {
    case ChildStage::exec:
      return Error(failure.err == ENOENT ? ErrorKind::not_found : ErrorKind::not_executable,
                   sys_message(request.program, failure.err));
    case ChildStage::chdir:
      return Error(ErrorKind::invalid_argument, sys_message("chdir " + request.cwd, failure.err));
    case ChildStage::stdio:
      return Error(ErrorKind::system, sys_message("set up stdin/stdout/stderr", failure.err));
    case ChildStage::isolate:
      return Error(ErrorKind::unsupported,
                   sys_message(std::string("give the task namespaces of its own (") +
                                   (request.isolation.private_tmp ? "--private-tmp" : "--private-ipc") + ")",
                               failure.err));
    case ChildStage::join_cgroup:
      break;
  }
  return Error(ErrorKind::system, sys_message("join the task cgroup", failure.err));
}

}  // namespace cgspawn
