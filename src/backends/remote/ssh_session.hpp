// SPDX-License-Identifier: MIT
// One session on the remote, however it was opened: asked of its master over the mux protocol
// (MuxSession: no local process), or run by an ssh process of its own (SshProcess: the one way
// to a connection of its own, where no master takes it). Waited for and ended the same way.
#pragma once

#include <optional>
#include <variant>

#include "backends/remote/mux_session.hpp"
#include "backends/remote/ssh_command.hpp"
#include "backends/remote/ssh_process.hpp"

namespace cgspawn::remote {

class SshSession {
 public:
  SshSession() = default;
  explicit SshSession(SshProcess process) : session_(std::move(process)) {}
  explicit SshSession(MuxSession mux) : session_(std::move(mux)) {}

  bool running() const;
  // Readable once it ends (an ssh process: its pidfd; a mux session: its exit message or close).
  int poll_fd() const;
  // Its end by `deadline` as a wait status: ssh's own, or the one ssh would have had with the
  // exit code the master reported (255 when none came). nullopt: still running.
  std::optional<int> wait(Clock::time_point deadline);
  // Ends it now (an ssh process is killed and reaped).
  void kill();

 private:
  std::variant<std::monostate, SshProcess, MuxSession> session_;
};

struct OpenedSession {
  SshSession session;    // none: not opened (mux client_only, and the master did not take it)
  bool refused = false;  // the master said sshd refused it (MaxSessions): nothing ran there
};

// A session running `command` with `in`, `out` and `err` (-1: /dev/null) as its stdio, asked
// of the master at `control_path` first (its answer waited for until `deadline`). Where that
// master does not take it (refused, or not there), `mux` says what follows: client, an ssh
// process (which tries the master, then a connection of its own); client_only, nothing; none
// (or no control path), an ssh process with a connection of its own. A master that does not
// answer by `deadline` gets no ssh after it.
OpenedSession open_session(const SshTarget& target, Mux mux, const std::string& control_path,
                           const std::string& command, int in, int out, int err, Clock::time_point deadline);

}  // namespace cgspawn::remote
