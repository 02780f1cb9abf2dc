// SPDX-License-Identifier: MIT
// How many sessions each ssh master of a pool carries now, counted locally: every session is
// a client connected to its master's control socket, and the kernel lists each accepted
// connection under the socket's name in /proc/net/unix. sshd refuses a session beyond its
// MaxSessions on one connection (a round trip, an ssh and a ProxyCommand per refusal), so a
// spawn asks the least loaded master first instead of trying them in turn.
#pragma once

#include <map>
#include <string>

namespace cgspawn::remote {

// The listening control sockets in `dir` (a pool's directory), by path, each with its number of
// connected clients. ssh binds its socket as "<path>.<16 random characters>" and links it to
// <path>: both names count as <path>.
std::map<std::string, std::size_t> mux_sessions(const std::string& dir);

}  // namespace cgspawn::remote
