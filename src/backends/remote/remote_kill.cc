// SPDX-License-Identifier: MIT
#include "backends/remote/remote_kill.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>

#include "backends/remote/agent_script.hpp"
#include "backends/remote/cgspawn_reports.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/ssh_session.hpp"
#include "backends/remote/standby_kill.hpp"
#include "cgspawn/parse.hpp"
#include "report/rows.hpp"
#include "util/file_io.hpp"
#include "util/sys_error.hpp"

namespace cgspawn::remote {
namespace {

// Runs a kill session of its own over the master (asked of it directly), or by ssh over a
// connection of its own where the master does not take it.
KillReply run_kill_session(const RemoteCgroupRef& ref, const DestroyOptions& options) {
  std::vector<std::string> args = {ref.name};
  for (auto& word : kill_times(options)) args.push_back(std::move(word));
  if (!ref.unit.empty()) args.push_back(ref.unit);
  std::string mark = make_mark();
  std::string command = agent_command(mark, "kill", args);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_sys("pipe2", errno);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  UniqueFd err(::memfd_create("cgspawn-ssh-err", MFD_CLOEXEC));
  auto started = Clock::now();
  SshSession ssh = open_session(ref.target, Mux::client, ref.control_path, command, -1, write_end.get(),
                                err.get(), started + kAnswerBound)
                       .session;
  write_end.reset();
  return read_kill_reply(ssh, read_end.get(), err.get(), mark, options, started);
}

std::vector<ProcessRef> process_refs(const std::string& list) {
  std::vector<ProcessRef> out;
  for (const auto& p : parse_process_list(list)) out.push_back({p.pid, p.comm, ""});
  return out;
}

ResourceOutcome from_marker(const RemoteCgroupRef& ref, const Marker& m) {
  Resource res{ref.resource_kind(), ref.resource_id()};
  std::string host = ref.target.display();
  if (m.word == "KILLED") {
    std::string how =
        !ref.unit.empty()
            ? "its cgroup verified empty (populated 0), the unit stopped and unloaded by systemd"
        : m.field("via") == "cgspawn"
            ? "destroyed by the cgspawn installed there, its cgroup verified removed"
            : "verified empty (populated 0) and removed";
    std::string agent = m.field("agent");
    auto row = make_row(
        res, Outcome::destroyed,
        "killed on " + host + ", " + how + ", checked by a second ssh session (PIDs are the remote's)" +
            (agent.empty() || agent == "none" ? "" : "; the remote agent's record: " + agent));
    row.killed = process_refs(m.field("killed"));
    row.killed_total = row.killed.size();
    return row;
  }
  if (m.word == "GONE") {
    std::string agent = m.field("agent");
    return make_row(res, Outcome::already_gone,
                    "not on " + host + " any more" +
                        (agent.empty() || agent == "none" ? "" : "; the remote agent's record: " + agent));
  }
  if (m.word == "NOT-EMPTY") {
    auto row = make_row(res, Outcome::failed,
                        "still populated on " + host + " after SIGKILL (PIDs are the remote's)");
    row.survivors = process_refs(m.field("left"));
    return row;
  }
  if (m.word == "CGSPAWN-LEFT")
    return make_row(res, Outcome::failed,
                    "the cgspawn installed on " + host + " did not complete the destroy of its task " +
                        m.field("id") + " (" + m.field("why") + "); its ledger " + m.field("ledger") +
                        " there keeps the record");
  if (m.word == "UNIT-LEFT")
    return make_row(res, Outcome::failed,
                    "its cgroup is empty, but systemd on " + host + " still has unit " + m.field("unit") +
                        " loaded (LoadState " + m.field("load_state") + ")");
  return make_row(res, Outcome::failed, "the remote agent on " + host + ": " + m.word + " " + m.text);
}

std::string why_unreachable(const KillReply& reply) {
  std::string why = one_line(reply.err);
  if (!reply.status)
    return "no answer from ssh within " + format_seconds(reply.seconds) +
           (why.empty() ? "" : " (" + why + ")");
  if (why.empty() && WIFEXITED(*reply.status))
    why = "ssh exited with status " + std::to_string(WEXITSTATUS(*reply.status)) + " and no message";
  return why + " after " + format_seconds(reply.seconds);
}

}  // namespace

ResourceKind RemoteCgroupRef::resource_kind() const {
  return unit.empty() ? ResourceKind::remote_cgroup : ResourceKind::remote_unit;
}

std::string RemoteCgroupRef::resource_id() const {
  if (!unit.empty()) return target.display() + ":" + unit;
  return target.display() + ":" + (cgroup.empty() ? "cgspawn-remote/" + name : cgroup);
}

std::string utc_time(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm);
  return buf;
}

std::string lease_promise(const std::string& cgroup, std::optional<Duration> lease,
                          const std::string& since) {
  if (!lease)
    return "no lease (--lease none): the task may keep running in " + cgroup +
           " until `cgspawn reap` reaches the host";
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(*lease).count();
  return "the remote agent will kill cgroup " + cgroup + " when the lease expires, at most " +
         std::to_string(secs) + "s after " + since + " (unless the agent itself died)";
}

ResourceOutcome unreachable_row(const RemoteCgroupRef& ref, const std::string& why) {
  return make_row({ref.resource_kind(), ref.resource_id()}, Outcome::not_guaranteed,
                  "cannot reach " + ref.target.display() + ": " + why + "; unverified; " +
                      ref.if_unreachable +
                      "; the record stays: `cgspawn reap` reconnects, verifies and completes");
}

ResourceOutcome kill_remote_cgroup(const RemoteCgroupRef& ref, const DestroyOptions& options,
                                   StandbyKill* standby) {
  auto started = Clock::now();
  ResourceOutcome row;
  try {
    std::optional<KillReply> ahead = standby ? standby->kill(ref.unit, options) : std::nullopt;
    KillReply reply = ahead ? std::move(*ahead) : run_kill_session(ref, options);
    std::optional<Marker> final;
    auto markers = find_markers(reply.out, reply.mark);
    for (const auto& m : markers)
      if (m.word != "HELLO" && m.word.find("-REPORT") == std::string::npos && m.word != "RUN-RESULT")
        final = m;
    if (final) {
      row = from_marker(ref, *final);
      fold_cgspawn_reports(row, markers);
    } else {
      row = unreachable_row(ref, why_unreachable(reply));
    }
  } catch (const std::exception& e) {
    row = make_row({ref.resource_kind(), ref.resource_id()}, Outcome::not_guaranteed,
                   std::string("cannot run ssh: ") + e.what() + "; " + ref.if_unreachable);
  }
  row.seconds = seconds_between(started, Clock::now());
  return row;
}

}  // namespace cgspawn::remote
