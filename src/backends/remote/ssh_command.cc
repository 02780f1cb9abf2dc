// SPDX-License-Identifier: MIT
#include "backends/remote/ssh_command.hpp"

#include "cgspawn/error.hpp"

namespace cgspawn::remote {
namespace {

void add_option(std::vector<std::string>& argv, const std::string& option) {
  argv.push_back("-o");
  argv.push_back(option);
}

// The options that make a call bounded and prompt-free, whatever the user's config says
// (options on the command line win over the config file's).
void add_fixed_options(std::vector<std::string>& argv) {
  add_option(argv, "BatchMode=yes");  // never a password or host-key prompt
  add_option(argv, "ConnectTimeout=" + std::to_string(kConnectTimeout));
  add_option(argv, "ServerAliveInterval=" + std::to_string(kAliveInterval));
  add_option(argv, "ServerAliveCountMax=" + std::to_string(kAliveCount));
  add_option(argv, "LogLevel=INFO");  // "Timeout, server ... not responding." is INFO
  add_option(argv, "ClearAllForwardings=yes");
}

void add_destination(std::vector<std::string>& argv, const SshTarget& target) {
  if (!target.port.empty()) {
    argv.push_back("-p");
    argv.push_back(target.port);
  }
  if (!target.user.empty()) {
    argv.push_back("-l");
    argv.push_back(target.user);
  }
  argv.push_back("--");  // a destination or command starting with '-' is never an option
  argv.push_back(target.host);
}

std::vector<std::string> base_argv(const SshTarget& target) {
  std::vector<std::string> argv = {"ssh"};
  if (!target.config.empty()) {
    argv.push_back("-F");
    argv.push_back(target.config);
  }
  return argv;
}

bool valid_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':';
}

}  // namespace

std::string SshTarget::display() const {
  std::string out = user.empty() ? host : user + "@" + host;
  return port.empty() ? out : out + ":" + port;
}

SshTarget parse_target(const std::string& text, const std::string& config) {
  SshTarget t;
  t.config = config;
  std::string rest = text;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    t.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  // HOST:PORT, but a bare IPv6 address (more than one ':') has no port.
  if (auto colon = rest.rfind(':'); colon != std::string::npos && rest.find(':') == colon) {
    t.port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos)
      throw Error(ErrorKind::invalid_argument, "invalid port in --host \"" + text + "\"");
  }
  t.host = rest;
  bool ok = !t.host.empty() && t.host[0] != '-';
  for (char c : t.host) ok = ok && valid_host_char(c);
  for (char c : t.user)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
  if (!ok)
    throw Error(ErrorKind::invalid_argument, "invalid --host \"" + text + "\": use [USER@]HOST[:PORT]");
  return t;
}

std::string shell_quote(std::string_view word) {
  std::string q = "'";
  for (char c : word) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

std::string remote_command(const std::vector<std::string>& argv) {
  std::string out = "exec";  // the login shell is replaced: it neither re-parses nor lingers
  for (const auto& word : argv) out += " " + shell_quote(word);
  return out;
}

std::vector<std::string> ssh_argv(const SshTarget& target, Mux mux, const std::string& control_path,
                                  const std::string& command, int persist) {
  std::vector<std::string> argv = base_argv(target);
  add_fixed_options(argv);
  argv.push_back("-T");  // no pty: stdout stays byte-exact, stderr stays separate
  switch (mux) {
    case Mux::none:
      argv.push_back("-S");
      argv.push_back("none");
      add_option(argv, "ControlMaster=no");
      break;
    case Mux::client:
    case Mux::client_only:
      add_option(argv, "ControlMaster=no");
      add_option(argv, "ControlPath=" + control_path);
      if (mux == Mux::client_only) add_option(argv, "ProxyCommand=false");
      break;
    case Mux::master:
      add_option(argv, "ControlMaster=yes");
      add_option(argv, "ControlPath=" + control_path);
      // A backstop only: cgspawn closes the master when no task needs it; if nobody does
      // (the caller died and nobody reaped), it goes after `persist` idle seconds.
      add_option(argv, "ControlPersist=" + std::to_string(persist));
      argv.push_back("-f");
      argv.push_back("-N");
      break;
  }
  add_destination(argv, target);
  if (!command.empty()) argv.push_back(command);
  return argv;
}

bool session_refused(const std::string& ssh_stderr) {
  return ssh_stderr.find("session request failed: Session open refused by peer") != std::string::npos;
}

std::vector<std::string> ssh_control_argv(const SshTarget& target, const std::string& control_path,
                                          const std::string& operation) {
  std::vector<std::string> argv = base_argv(target);
  add_option(argv, "BatchMode=yes");
  add_option(argv, "ControlPath=" + control_path);
  argv.push_back("-O");
  argv.push_back(operation);
  add_destination(argv, target);
  return argv;
}

}  // namespace cgspawn::remote
