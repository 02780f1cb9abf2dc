// SPDX-License-Identifier: MIT
// Is an ssh ControlMaster alive? Asked on its control socket in the mux protocol itself
// (OpenSSH's PROTOCOL.mux: hello, then MUX_C_ALIVE_CHECK), which costs microseconds where
// `ssh -O check` costs a process (about 11 ms on these machines, on every spawn).
#pragma once

#include <optional>
#include <string>

#include "cgspawn/spawner.hpp"

namespace cgspawn::remote {

enum class MuxAnswer { alive, dead, unknown };  // unknown: it answered, but not as expected

struct MuxAlive {
  MuxAnswer answer = MuxAnswer::dead;
  int pid = 0;  // the master's, when alive
};

// Never throws. dead: no socket, or nobody accepts on it, or it hangs up.
MuxAlive mux_alive(const std::string& control_path, Duration timeout);

// The socket file is there but nobody listens on it (its master was killed, or is exiting).
bool nobody_listens(const std::string& control_path);

}  // namespace cgspawn::remote
