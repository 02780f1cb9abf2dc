// SPDX-License-Identifier: MIT
#include "launch/detached.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "util/sys_error.hpp"

#ifndef CGSPAWN_SUPERVISOR_PATH
#define CGSPAWN_SUPERVISOR_PATH "/usr/local/libexec/cgspawn-supervisor"
#endif

namespace cgspawn {
namespace {

// In the first child: fork again, so the helper is reparented away from the caller. Only
// async-signal-safe calls from here on: `argv` was prepared before the fork.
[[noreturn]] void exec_helper(const char* path, char* const* argv,
                              const std::vector<std::pair<int, int>>& fds) {
  if (::fork() != 0) ::_exit(0);
  ::setsid();
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int moved[8];
  size_t n = fds.size() < 8 ? fds.size() : 8;
  for (size_t i = 0; i < n; ++i) moved[i] = ::fcntl(fds[i].first, F_DUPFD_CLOEXEC, 10);
  for (int std_fd = 0; std_fd < 3; ++std_fd) ::dup2(null_fd, std_fd);
  for (size_t i = 0; i < n; ++i) ::dup2(moved[i], fds[i].second);
  ::execv(path, argv);
  ::_exit(127);
}

}  // namespace

std::string helper_program() {
  if (const char* env = std::getenv("CGSPAWN_SUPERVISOR"); env && *env) return env;
  std::error_code ec;
  auto beside = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "cgspawn-supervisor";
  if (!ec && ::access(beside.c_str(), X_OK) == 0) return beside.string();
  return CGSPAWN_SUPERVISOR_PATH;
}

void start_detached(const std::vector<std::string>& args, const std::vector<std::pair<int, int>>& fds) {
  std::string path = helper_program();
  std::vector<std::string> words = {"cgspawn-supervisor"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) throw_sys("fork", errno);
  if (child == 0) exec_helper(path.c_str(), argv.data(), fds);
  ::waitpid(child, nullptr, 0);
}

}  // namespace cgspawn
