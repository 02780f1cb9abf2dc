// SPDX-License-Identifier: MIT
#include "backends/remote/ssh_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/file_io.hpp"
#include "util/sys_error.hpp"

extern char** environ;

namespace cgspawn::remote {
namespace {

UniqueFd open_null() {
  return UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC));
}

}  // namespace

SshProcess::SshProcess(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd) {
  UniqueFd null = open_null();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd >= 0 ? in_fd : null.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd >= 0 ? out_fd : null.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd >= 0 ? err_fd : null.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A caller that ignores SIGINT/SIGPIPE (or blocks signals) must not hand that to ssh; and
  // a terminal's Ctrl-C goes to the caller, which then destroys with grace, not to ssh.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int err = ::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) throw_sys("start " + argv[0], err);
  pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  if (!pidfd_.valid()) {
    int e = errno;
    kill();
    throw_sys("pidfd_open for ssh", e);
  }
}

SshProcess::~SshProcess() {
  kill();
}

std::optional<int> SshProcess::wait(Clock::time_point deadline) {
  if (status_ || pid_ <= 0) return status_;
  if (wait_readable(pidfd_.get(), deadline) != WaitResult::ready) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) status_ = status;
  return status_;
}

void SshProcess::kill() {
  if (pid_ <= 0 || status_ || !pidfd_.valid()) return;
  ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);  // by pidfd: never a reused pid
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) status_ = status;
}

SshOutput run_ssh(const std::vector<std::string>& argv, Clock::time_point deadline) {
  // Files, not pipes: a master that forks into the background (-f) keeps its stdio, and a
  // pipe would then never reach EOF.
  UniqueFd out(::memfd_create("cgspawn-ssh-out", MFD_CLOEXEC));
  UniqueFd err(::memfd_create("cgspawn-ssh-err", MFD_CLOEXEC));
  if (!out.valid() || !err.valid()) throw_sys("memfd_create", errno);
  auto started = Clock::now();
  SshProcess ssh(argv, -1, out.get(), err.get());
  SshOutput result;
  result.status = ssh.wait(deadline);
  if (!result.status) ssh.kill();
  result.seconds = seconds_between(started, Clock::now());
  result.out = read_from_start(out.get());
  result.err = read_from_start(err.get());
  return result;
}

std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\r') continue;
    out += c == '\n' ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.size() > 600 ? out.substr(0, 600) + "..." : out;
}

}  // namespace cgspawn::remote
