// SPDX-License-Identifier: MIT
#include "backends/remote/kill_reply.hpp"

#include <unistd.h>

#include "util/deadline.hpp"
#include "util/file_io.hpp"

namespace cgspawn::remote {

std::vector<std::string> kill_times(const DestroyOptions& options) {
  auto ms = [](Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  return {std::to_string(ms(options.grace)),
          std::to_string(std::max<long long>(1000, ms(options.verify_timeout)))};
}

KillReply read_kill_reply(SshSession& ssh, int out_fd, int err_fd, const std::string& mark,
                          const DestroyOptions& options, Clock::time_point started) {
  KillReply reply;
  reply.mark = mark;
  auto deadline = started + kAnswerBound;
  char buf[4096];
  for (;;) {
    if (wait_readable(out_fd, deadline) != WaitResult::ready) break;
    ssize_t n = ::read(out_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.out.append(buf, static_cast<size_t>(n));
    if (!reply.answered && reply.out.find(mark + " HELLO") != std::string::npos) {
      reply.answered = true;
      deadline = Clock::now() + options.grace + options.verify_timeout + std::chrono::seconds(5);
    }
  }
  reply.status = ssh.wait(std::min(deadline, Clock::now() + std::chrono::seconds(2)));
  if (!reply.status) ssh.kill();
  reply.seconds = seconds_between(started, Clock::now());
  reply.err = read_from_start(err_fd);
  return reply;
}

}  // namespace cgspawn::remote
