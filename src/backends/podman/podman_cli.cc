// SPDX-License-Identifier: MIT
#include "backends/podman/podman_cli.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "cgspawn/error.hpp"
#include "util/deadline.hpp"
#include "util/pipe.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

LaunchRequest request_for(const std::vector<std::string>& args) {
  LaunchRequest request;
  request.program = podman_path();
  request.argv = {"podman"};
  request.argv.insert(request.argv.end(), args.begin(), args.end());
  TaskSpec inherit;  // podman gets the caller's environment, its configuration included
  request.envp = build_environment(inherit);
  return request;
}

// Reads both pipes to EOF (podman may write more than a pipe holds before it exits).
bool drain(int out_fd, int err_fd, std::string& out, std::string& err, Clock::time_point deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open = 2;
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  return true;
}

}  // namespace

std::string PodmanOutput::error_text() const {
  // The runtime's own stderr comes before podman's "Error:" line; logrus lines (time=...) are
  // podman's warnings, left out. What remains is podman's and the runtime's own words.
  std::string text;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.rfind("time=", 0) == 0) continue;
    text += (text.empty() ? "" : "; ") + line;
  }
  if (text.empty()) text = "(no message)";
  if (timed_out) return text + " (killed after its timeout)";
  return text + " (exit " + std::to_string(exit_code) + ")";
}

std::string podman_path() {
  const char* path = std::getenv("PATH");
  try {
    return resolve_program("podman", path ? path : "");
  } catch (const Error&) {
    throw Error(ErrorKind::unsupported, "podman is not installed or not in PATH");
  }
}

PodmanOutput run_podman(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  LaunchRequest request = request_for(args);
  Pipe out = make_pipe(), err = make_pipe();
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  request.stdio[0] = null_in.get();
  request.stdio[1] = out.write.get();
  request.stdio[2] = err.write.get();
  Launched child = launch(request);
  out.write.reset();
  err.write.reset();
  PodmanOutput result;
  auto deadline = Clock::now() + timeout;
  if (!drain(out.read.get(), err.read.get(), result.out, result.err, deadline) ||
      wait_readable(child.pidfd.get(), deadline) != WaitResult::ready) {
    ::kill(child.pid, SIGKILL);  // a hung podman is not waited for forever
    result.timed_out = true;
  }
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED);
  if (!result.timed_out && info.si_code == CLD_EXITED) result.exit_code = info.si_status;
  return result;
}

Launched start_podman(const std::vector<std::string>& args, int stdout_fd, int stderr_fd) {
  LaunchRequest request = request_for(args);
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  request.stdio[0] = null_in.get();
  request.stdio[1] = stdout_fd;
  request.stdio[2] = stderr_fd;
  return launch(request);
}

}  // namespace cgspawn
