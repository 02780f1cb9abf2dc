// SPDX-License-Identifier: MIT
// Building ssh command lines: the destination, the options cgspawn sets itself (not left to
// the user's config), and the one pre-quoted remote command string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cgspawn::remote {

// Keepalive and connect bounds. A dead or hung remote is noticed by the master connection
// after between kAliveCount x kAliveInterval and (kAliveCount + 1) x kAliveInterval of silence
// (6 to 8 s); a new connection gives up after kConnectTimeout.
inline constexpr int kAliveInterval = 2;
inline constexpr int kAliveCount = 3;
inline constexpr int kConnectTimeout = 5;

// --host [USER@]HOST[:PORT], and the --ssh-config it is read with.
struct SshTarget {
  std::string user;
  std::string host;
  std::string port;
  std::string config;  // empty: ssh's own defaults (~/.ssh/config, /etc/ssh/ssh_config)

  std::string display() const;  // as the user wrote it: [USER@]HOST[:PORT]
};

// Throws invalid_argument for an empty or malformed destination.
SshTarget parse_target(const std::string& text, const std::string& config);

// POSIX sh single quoting of one word: ' -> '\'' (sh, bash, dash, ksh, zsh).
std::string shell_quote(std::string_view word);

// "exec 'w0' 'w1' ...": one string the remote login shell parses back into exactly argv.
std::string remote_command(const std::vector<std::string>& argv);

// How a call uses the connection multiplexer. client: a session over the master, or, should
// the master refuse it (sshd's MaxSessions), over a connection of its own, as ssh does by
// itself. client_only: never a connection of its own, so the caller sees the refusal and can
// take another master (open_session() then asks the master alone and runs no ssh; an ssh run
// with it gets a ProxyCommand that fails at once).
enum class Mux { none, client, client_only, master };

// How long a master nobody uses lives on (ControlPersist): a backstop only, as cgspawn closes
// the masters it started once nobody holds them (ssh_master.hpp).
inline constexpr int kMasterPersist = 300;

// The full ssh argv: options, "--", destination, then `command` (if not empty) as ONE word.
// `persist`: a master's ControlPersist, in seconds.
std::vector<std::string> ssh_argv(const SshTarget& target, Mux mux, const std::string& control_path,
                                  const std::string& command, int persist = kMasterPersist);

// Did ssh say that its master refused the session (sshd's MaxSessions on that connection)?
// Nothing ran on the remote then.
bool session_refused(const std::string& ssh_stderr);

// ssh -O CHECK|exit against a master.
std::vector<std::string> ssh_control_argv(const SshTarget& target, const std::string& control_path,
                                          const std::string& operation);

}  // namespace cgspawn::remote
