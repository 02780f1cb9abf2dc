// SPDX-License-Identifier: MIT
#include "backends/remote/mux_session.hpp"

#include <fcntl.h>

#include "util/sys_error.hpp"

namespace cgspawn::remote {
namespace {

constexpr uint32_t kNewSession = 0x10000002;
constexpr uint32_t kPermissionDenied = 0x80000002, kFailure = 0x80000003, kExitMessage = 0x80000004,
                   kSessionOpened = 0x80000006;
constexpr uint32_t kNoEscape = 0xffffffff;
constexpr uint32_t kRequest = 1;
// A reply whose first bytes came is whole in microseconds: its rest is read within this.
constexpr auto kRestOfReply = std::chrono::seconds(1);

// The request as ssh's mux client sends it, without a tty, forwarding or environment.
MuxPacket new_session(const std::string& command) {
  MuxPacket p;
  p.word(kNewSession).word(kRequest).string("");  // reserved
  p.word(0).word(0).word(0).word(0);              // tty, X11, agent, subsystem
  p.word(kNoEscape).string("").string(command);   // escape character, TERM, command
  return p;
}

}  // namespace

std::string MuxSession::start(const std::string& control_path, const std::string& command, int in, int out,
                              int err, Clock::time_point deadline) {
  kill();
  exit_code_ = 255;
  MuxConnected c = mux_connect(control_path);
  if (!c.fd.valid())
    return c.unusable ? "cannot connect to " + control_path
                      : sys_message("connect to the master's socket " + control_path, c.error);
  MuxSocket socket(std::move(c.fd));
  if (!socket.hello(deadline)) return "the master at " + control_path + " did not say hello";
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!socket.send(new_session(command), deadline)) return "the master at " + control_path + " hung up";
  for (int fd : {in, out, err})
    if (!socket.send_fd(fd >= 0 ? fd : null.get(), deadline))
      return "the master at " + control_path + " did not take the session's descriptors";
  socket_ = std::move(socket);
  return "";
}

std::string MuxSession::opened(Clock::time_point deadline) {
  if (!socket_.valid()) return "no session was asked for";
  std::optional<MuxReply> reply = socket_.receive(deadline);
  if (!reply) {
    kill();
    return "the master did not answer the session request";
  }
  uint32_t type = reply->word(), request = reply->word();
  if (type == kSessionOpened && request == kRequest) {
    session_ = reply->word();
    if (reply->ok()) return "";
  }
  std::string why = (type == kFailure || type == kPermissionDenied) ? reply->string() : "";
  kill();
  return why.empty() ? "unexpected answer from the master" : why;
}

std::optional<int> MuxSession::wait(Clock::time_point deadline) {
  while (socket_.valid()) {
    if (wait_readable(socket_.fd(), deadline) != WaitResult::ready) return std::nullopt;
    std::optional<MuxReply> message = socket_.receive(Clock::now() + kRestOfReply);
    if (!message) {  // the master closed it: the session is over
      kill();
      break;
    }
    uint32_t type = message->word(), session = message->word(), code = message->word();
    if (type == kExitMessage && session == session_ && message->ok()) exit_code_ = static_cast<int>(code);
  }
  return exit_code_;
}

}  // namespace cgspawn::remote
