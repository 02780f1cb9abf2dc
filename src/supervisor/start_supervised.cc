// SPDX-License-Identifier: MIT
// The caller's side of a supervised start: start the supervisor detached (it outlives the
// caller), hand it the request, and read its one-line report.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "cgspawn/error.hpp"
#include "cgspawn/parse.hpp"
#include "cgspawn/start.hpp"
#include "launch/detached.hpp"
#include "supervisor/start_request.hpp"
#include "util/pipe.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// "ok ID" or "error KIND MESSAGE" from the supervisor.
std::string parse_report(const std::string& report, const std::string& path) {
  if (report.rfind("ok ", 0) == 0) {
    std::string id = report.substr(3);
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  }
  if (report.rfind("error ", 0) == 0) {
    std::string rest = report.substr(6);
    auto space = rest.find(' ');
    auto kind = static_cast<ErrorKind>(std::stoi(rest.substr(0, space)));
    std::string message = rest.substr(space + 1);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw Error(kind, message);
  }
  throw Error(ErrorKind::system,
              "the supervisor exited before reporting (" + path + "); `cgspawn list` shows what it left");
}

// Writes all of `text`, ignoring SIGPIPE for the moment (a supervisor that died early must
// not kill the caller too).
void hand_over(int fd, const std::string& text) {
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  size_t done = 0;
  int err = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  ::sigaction(SIGPIPE, &old, nullptr);
  if (err && err != EPIPE) throw_sys("hand the task to the supervisor", err);
}

}  // namespace

std::string start_supervised(const StartRequest& input) {
  if (!input.backend.ledger)
    throw Error(ErrorKind::invalid_argument, "start_supervised: a ledger is required");
  StartRequest request = input;
  if (request.spec.id.empty()) request.spec.id = make_task_id();
  Pipe requests = make_pipe(), reports = make_pipe();
  start_detached({}, {{requests.read.get(), 0}, {reports.write.get(), 3}});
  requests.read.reset();
  reports.write.reset();
  hand_over(requests.write.get(), start_request_json(request, request.backend.ledger->dir()));
  requests.write.reset();
  return parse_report(read_all(reports.read.get()), helper_program());
}

}  // namespace cgspawn
