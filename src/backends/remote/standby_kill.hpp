// SPDX-License-Identifier: MIT
// A kill session opened ahead of a task's destroy: the agent's `standby`, started beside the
// task's own session over the same master, waiting for one request. A destroy that comes while
// it is held sends its grace and verify time there instead of opening a session (the mux
// session, the remote login shell and the agent's start: about one `ssh HOST true`). Held for
// the task's first seconds only: past them it is let go (EOF: the agent ends, doing nothing),
// as it takes a session slot of the remote sshd (MaxSessions) and a process on each side.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/remote/kill_reply.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/ssh_session.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::remote {

struct RemoteCgroupRef;

class StandbyKill {
 public:
  StandbyKill() = default;
  // Never throws: a standby that cannot start is none (the destroy opens its own session).
  // Mux::client_only (a session over the task's master, or none); Mux::client also lets ssh
  // open a connection of its own when that master refuses it (ssh_command.hpp).
  static StandbyKill open(const RemoteCgroupRef& ref, Clock::time_point until, Mux mux = Mux::client_only);

  // Open, its session still running, and within its time.
  bool usable() const;
  bool running() const { return ssh_.running(); }  // its session not yet reaped
  Clock::time_point until() const { return until_; }
  int pidfd() const { return ssh_.poll_fd(); }  // readable once its session ends
  // Lets it go: EOF for the agent, which ends; its ssh is reaped by reap() or the destructor.
  void let_go() { request_.reset(); }
  bool let_go_already() const { return !request_.valid(); }
  // Reaps its ssh once ended (never blocks).
  void reap() { ssh_.wait(Clock::now()); }
  // Its master refused it (no session slot left there): nothing ran on the remote.
  bool refused() const;

  // The hang report's request: the agent's lines up to its HANG-END. nullopt: the session
  // ended before its agent said HELLO (as for kill()). A report cut short (the session ended,
  // or no HANG-END by `deadline`) lets the standby go, killed: the kill then takes a session
  // of its own rather than queue behind an agent that may be stuck.
  std::optional<std::vector<Marker>> hang(Clock::time_point deadline);

  // The kill request. nullopt: the session ended before its agent said HELLO, so nothing of
  // the kill ran there (a refused session, a master gone): the caller opens a session of its own.
  std::optional<KillReply> kill(const std::string& unit, const DestroyOptions& options);

 private:
  SshSession ssh_;        // over the master itself where it takes it (ssh_session.hpp)
  bool refused_ = false;  // the master said so
  UniqueFd request_;      // the session's stdin: a socket, so a gone reader fails the send (no SIGPIPE)
  UniqueFd reply_;        // its stdout
  UniqueFd err_;          // its stderr, and ssh's (a memfd)
  std::string mark_;
  Clock::time_point until_{};
};

}  // namespace cgspawn::remote
