// SPDX-License-Identifier: MIT
// What a kill session's agent said: read until its session ends, within a bound that a hung
// host cannot stretch (the agent's HELLO opens the rest of it).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/remote/ssh_command.hpp"
#include "backends/remote/ssh_session.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn::remote {

// A destroy that gets no answer at all gives up after this long (ConnectTimeout + 3 s); once
// the agent answers, it has the grace and verify_timeout on top (+ 5 s).
inline constexpr std::chrono::seconds kAnswerBound{kConnectTimeout + 3};

struct KillReply {
  std::string mark;  // the session's nonce: only its lines are the agent's
  std::string out;
  std::string err;
  std::optional<int> status;  // ssh's wait status; nullopt: killed at the deadline
  bool answered = false;      // the agent said HELLO
  double seconds = 0;
};

// The agent's GRACE_MS and VERIFY_MS words for a kill (verify at least 1 s).
std::vector<std::string> kill_times(const DestroyOptions& options);

// Reads `out_fd` (the session's stdout) to its end or the deadline, then waits for `ssh` (and
// ends it at the deadline); `err_fd` is a file holding its stderr. `started` is when the
// request was made.
KillReply read_kill_reply(SshSession& ssh, int out_fd, int err_fd, const std::string& mark,
                          const DestroyOptions& options, Clock::time_point started);

}  // namespace cgspawn::remote
