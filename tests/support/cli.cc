// SPDX-License-Identifier: MIT
#include "cli.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace cgtest {

std::vector<std::string> RunResult::err_lines() const {
  auto lines = split_lines(err);
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

Child::Child(std::vector<std::string> argv, std::vector<std::string> set_env,
             std::vector<std::string> unset_env) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    bool drop = name == "CGSPAWN_STATE_DIR";
    for (const auto& u : unset_env) drop = drop || u == name;
    for (const auto& s : set_env) drop = drop || s.substr(0, s.find('=')) == name;
    if (!drop) env.push_back(entry);
  }
  env.insert(env.end(), set_env.begin(), set_env.end());
  // cgspawn's ledger goes to a directory of this child's own (removed with it), never to the
  // host's /run/cgspawn, unless the caller chose one.
  bool state_dir_set = false;
  for (const auto& s : set_env) state_dir_set = state_dir_set || s.rfind("CGSPAWN_STATE_DIR=", 0) == 0;
  if (!state_dir_set) env.push_back("CGSPAWN_STATE_DIR=" + dir_.file("state"));
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  std::string out = dir_.file("stdout"), err = dir_.file("stderr");
  started_ = Clock::now();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
    int in = ::open("/dev/null", O_RDONLY);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || o < 0 || e < 0) ::_exit(121);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(122);
  }
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (pidfd_ >= 0) ::close(pidfd_);
}

void Child::signal(int sig) const {
  if (!reaped_) ::kill(pid_, sig);
}

RunResult Child::wait(std::chrono::milliseconds timeout) {
  RunResult r;
  if (reaped_) throw std::logic_error("Child::wait called twice");
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{pidfd_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) break;
    if (n < 0 && errno != EINTR) break;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == 0) {
    r.hung = true;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  reaped_ = true;
  r.seconds = seconds_since(started_);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  r.out = read_text(dir_.file("stdout")).value_or("");
  r.err = read_text(dir_.file("stderr")).value_or("");
  return r;
}

std::string cgspawn_bin() {
  return built_program("CGSPAWN_BIN");
}
std::string helper_bin() {
  return built_program("CGSPAWN_TEST_HELPER");
}

RunResult run_cgspawn(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {cgspawn_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv, {}, {"CGSPAWN_PARENT", "CGSPAWN_LOG"});
  return child.wait(timeout);
}

}  // namespace cgtest
