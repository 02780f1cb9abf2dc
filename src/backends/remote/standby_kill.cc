// SPDX-License-Identifier: MIT
#include "backends/remote/standby_kill.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/remote/agent_script.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/remote_kill.hpp"
#include "util/deadline.hpp"
#include "util/file_io.hpp"
#include "util/logger.hpp"

namespace cgspawn::remote {
StandbyKill StandbyKill::open(const RemoteCgroupRef& ref, Clock::time_point until, Mux mux) {
  StandbyKill s;
  try {
    int sv[2], out[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return {};
    UniqueFd ours(sv[0]), theirs(sv[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) return {};
    UniqueFd read_end(out[0]), write_end(out[1]);
    UniqueFd err(::memfd_create("cgspawn-ssh-err", MFD_CLOEXEC));
    if (!err.valid()) return {};
    s.mark_ = make_mark();
    // client_only: a refused session fails at once, where ssh would open a connection of its own.
    OpenedSession opened = open_session(
        ref.target, mux, ref.control_path, agent_command(s.mark_, "standby", {ref.name}), theirs.get(),
        write_end.get(), err.get(), Clock::now() + std::chrono::seconds(kConnectTimeout));
    s.ssh_ = std::move(opened.session);
    s.refused_ = opened.refused;
    s.request_ = std::move(ours);
    s.reply_ = std::move(read_end);
    s.err_ = std::move(err);
    s.until_ = until;
  } catch (const std::exception& e) {
    logger().debug("no kill session ahead for {}: {}", ref.name, e.what());
    return {};
  }
  return s;
}

bool StandbyKill::usable() const {
  return request_.valid() && ssh_.running() && Clock::now() < until_;
}

namespace {

// `out` holds the agent's whole HANG-END line.
bool hang_ended(const std::string& out, const std::string& mark) {
  auto at = out.find(mark + " HANG-END");
  return at != std::string::npos && out.find('\n', at) != std::string::npos;
}

}  // namespace

bool StandbyKill::refused() const {
  return refused_ || (err_.valid() && session_refused(read_from_start(err_.get())));
}

std::optional<std::vector<Marker>> StandbyKill::hang(Clock::time_point deadline) {
  reap();
  if (!usable()) return std::nullopt;
  if (::send(request_.get(), "hang\n", 5, MSG_NOSIGNAL) != 5) return std::nullopt;
  std::string out;
  char buf[4096];
  while (!hang_ended(out, mark_)) {
    if (wait_readable(reply_.get(), deadline) != WaitResult::ready) break;
    ssize_t n = ::read(reply_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  if (!hang_ended(out, mark_)) {
    let_go();
    ssh_.kill();
    if (out.find(mark_ + " HELLO") == std::string::npos) return std::nullopt;
  }
  return find_markers(out, mark_);
}

std::optional<KillReply> StandbyKill::kill(const std::string& unit, const DestroyOptions& options) {
  reap();
  if (!usable()) return std::nullopt;
  auto times = kill_times(options);
  std::string line = times[0] + " " + times[1] + (unit.empty() ? "" : " " + unit) + "\n";
  auto started = Clock::now();
  if (::send(request_.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    return std::nullopt;
  KillReply reply = read_kill_reply(ssh_, reply_.get(), err_.get(), mark_, options, started);
  if (!reply.answered && reply.status) return std::nullopt;  // ended unasked: nothing ran
  return reply;
}

}  // namespace cgspawn::remote
