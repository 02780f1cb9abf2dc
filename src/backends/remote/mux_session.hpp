// SPDX-License-Identifier: MIT
// A session over a running master, asked of it on its control socket (mux_socket.hpp) as
// `ssh -S PATH HOST COMMAND` asks it, but without that ssh process: the master is handed the
// session's three descriptors and serves them itself, so a remote task costs no local process
// of its own (an ssh client is about 1.5 MiB of PSS for the task's whole life, and an exec at
// every spawn). The session ends when the master closes the control connection, after
// sending the remote command's exit status; closing it from this side ends the session.
#pragma once

#include <optional>
#include <string>

#include "backends/remote/mux_socket.hpp"

namespace cgspawn::remote {

// The master's answer when sshd refused it a session (its MaxSessions on that connection):
// nothing ran on the remote.
inline constexpr const char* kSessionRefused = "Session open refused by peer";

class MuxSession {
 public:
  MuxSession() = default;
  // Moving one onto another ends the session it had (closing its connection).
  MuxSession(MuxSession&&) noexcept = default;
  MuxSession& operator=(MuxSession&&) noexcept = default;

  // Connects to the master at `control_path` and asks for a session running `command`, with
  // `in`, `out` and `err` (-1: /dev/null) as its stdio. Does not wait for the answer
  // (opened()), so that two sessions can be asked for at once. Returns why the request could
  // not be sent (no master listens there, ...); empty when it was.
  std::string start(const std::string& control_path, const std::string& command, int in, int out, int err,
                    Clock::time_point deadline);
  // The master's answer: empty when the session runs, else why not (kSessionRefused, ...).
  std::string opened(Clock::time_point deadline);

  // Asked for, and not yet ended.
  bool running() const { return socket_.valid(); }
  // Its control connection (readable once the master reports the end), -1 once ended.
  int fd() const { return socket_.fd(); }
  // The remote command's exit code once the master ends the session by `deadline` (255 when
  // it ended without one, as ssh exits then), else nullopt.
  std::optional<int> wait(Clock::time_point deadline);
  // Ends the session from this side: the master closes its channel (EOF to the remote
  // command's stdin; what it writes after that is lost).
  void kill() { socket_.close(); }

 private:
  MuxSocket socket_;
  uint32_t session_ = 0;
  int exit_code_ = 255;
};

}  // namespace cgspawn::remote
