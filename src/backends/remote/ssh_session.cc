// SPDX-License-Identifier: MIT
#include "backends/remote/ssh_session.hpp"

#include <sys/wait.h>

namespace cgspawn::remote {

bool SshSession::running() const {
  if (auto* p = std::get_if<SshProcess>(&session_)) return p->running();
  if (auto* m = std::get_if<MuxSession>(&session_)) return m->running();
  return false;
}

int SshSession::poll_fd() const {
  if (auto* p = std::get_if<SshProcess>(&session_)) return p->pidfd();
  if (auto* m = std::get_if<MuxSession>(&session_)) return m->fd();
  return -1;
}

std::optional<int> SshSession::wait(Clock::time_point deadline) {
  if (auto* p = std::get_if<SshProcess>(&session_)) return p->wait(deadline);
  if (auto* m = std::get_if<MuxSession>(&session_)) {
    std::optional<int> code = m->wait(deadline);
    if (code) return W_EXITCODE(*code, 0);
  }
  return std::nullopt;
}

void SshSession::kill() {
  if (auto* p = std::get_if<SshProcess>(&session_)) p->kill();
  if (auto* m = std::get_if<MuxSession>(&session_)) m->kill();
}

OpenedSession open_session(const SshTarget& target, Mux mux, const std::string& control_path,
                           const std::string& command, int in, int out, int err, Clock::time_point deadline) {
  OpenedSession opened;
  if (!control_path.empty() && mux != Mux::none) {
    MuxSession session;
    std::string why = session.start(control_path, command, in, out, err, deadline);
    if (why.empty()) why = session.opened(deadline);
    if (why.empty()) {
      opened.session = SshSession(std::move(session));
      return opened;
    }
    opened.refused = why == kSessionRefused;
    // A master that gave no answer in time hangs: ssh would wait on it as well.
    if (mux == Mux::client_only || Clock::now() >= deadline) return opened;
  }
  opened.session = SshSession(SshProcess(
      ssh_argv(target, control_path.empty() ? Mux::none : mux, control_path, command), in, out, err));
  return opened;
}

}  // namespace cgspawn::remote
