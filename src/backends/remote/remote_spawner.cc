// SPDX-License-Identifier: MIT
// The remote backend's Spawner: tasks on another host over ssh, each in a boundary of its own
// there (a systemd scope, an installed cgspawn's task, or a cgroup the agent makes), supervised
// by the POSIX-sh agent (agent.sh) that every call sends.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "backends/backend_rows.hpp"
#include "backends/remote/agent_script.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/remote_boundary.hpp"
#include "backends/remote/remote_probe.hpp"
#include "backends/remote/remote_scratch.hpp"
#include "backends/remote/ssh_master.hpp"
#include "backends/remote/standby_kill.hpp"
#include "backends/spec_checks.hpp"
#include "cgspawn/error.hpp"
#include "cgspawn/parse.hpp"
#include "storage/scratch.hpp"
#include "task/names.hpp"
#include "task/spawn_transaction.hpp"
#include "util/crash_point.hpp"
#include "util/file_io.hpp"
#include "util/logger.hpp"
#include "util/pipe.hpp"

namespace cgspawn {
namespace remote {
namespace {

// 8 hex of this machine and ledger: two runners using the same remote never collide. The
// machine id tells apart machines cloned with one hostname (CI workers); the ledger directory,
// two runners of one machine.
std::string origin_part(const std::string& ledger_dir) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string machine = read_file("/etc/machine-id").value_or("");
  unsigned h = 2166136261u;
  for (unsigned char c : std::string(host) + "\n" + machine + "\n" + ledger_dir) h = (h ^ c) * 16777619u;
  char out[9];
  std::snprintf(out, sizeof out, "%08x", h);
  return out;
}

// The agent's LIMITS word: "-" or "mem=BYTES,pids=N,cpu=PERCENT". The agent makes them unit
// properties, an installed cgspawn's options or the raw cgroup's files, and the start fails,
// naming the limit, where one cannot be set or did not take.
std::string limits_word(const Limits& limits) {
  std::string w;
  auto add = [&w](const std::string& item) { w += (w.empty() ? "" : ",") + item; };
  if (limits.memory_max_bytes) add("mem=" + std::to_string(*limits.memory_max_bytes));
  if (limits.pids_max) add("pids=" + std::to_string(*limits.pids_max));
  if (limits.cpu_max_percent) add("cpu=" + std::to_string(*limits.cpu_max_percent));
  return w.empty() ? "-" : w;
}

// The agent's RUNTIME_MAX_S (a unit's RuntimeMaxSec, an installed cgspawn's --timeout): an
// outer bound that holds even if nothing of cgspawn is left here to enforce the timeout (the
// timeout and grace, plus a margin for the destroy itself).
long long runtime_max_seconds(const TaskSpec& spec) {
  if (!spec.timeout) return 0;
  return std::chrono::ceil<std::chrono::seconds>(*spec.timeout + spec.grace).count() + 30;
}

// An installed cgspawn's refusal is its one line on stderr, "cgspawn: ...", before the agent's ERR.
std::string installed_cgspawn_says(const std::string& stderr_text) {
  std::string said;
  for (size_t at = 0; (at = stderr_text.find("cgspawn: ", at)) != std::string::npos; at += 9)
    if (at == 0 || stderr_text[at - 1] == '\n')
      said = stderr_text.substr(at + 9, stderr_text.find('\n', at) - at - 9);
  return said.empty() ? "" : ": " + said;
}

long long lease_seconds(std::optional<Duration> lease) {
  if (!lease) return 0;
  auto s = std::chrono::ceil<std::chrono::seconds>(*lease).count();
  return std::max<long long>(1, s);
}

class RemoteSpawner final : public Spawner {
 public:
  explicit RemoteSpawner(const BackendOptions& options)
      : options_(options), target_(parse_target(options.host, options.ssh_config)) {
    std::string dir = options.ledger ? options.ledger->dir() : "";
    origin_ = origin_part(dir);
    control_path_ = control_path_for(target_, dir);
  }

  Capabilities capabilities() const override;
  std::unique_ptr<Task> spawn(const TaskSpec& spec) override;

 private:
  std::map<std::string, std::string> attributes(const std::string& name,
                                                const std::string& control_path) const;
  std::vector<ResourceRecord> intended(const std::string& name) const;
  RemoteSession launch_session(const TaskSpec& spec, const std::string& name,
                               const std::string& control_path) const;
  RemoteSession session_on_a_master(const TaskSpec& spec, RemoteBoundary& boundary, SpawnTransaction& txn,
                                    std::vector<Marker>& reply) const;
  std::string ledger_dir() const { return options_.ledger ? options_.ledger->dir() : ""; }

  BackendOptions options_;
  SshTarget target_;
  std::string origin_;
  std::string control_path_;
  mutable std::mutex probe_mutex_;
  mutable std::optional<RemoteFacts> facts_;
};

Capabilities RemoteSpawner::capabilities() const {
  std::lock_guard lock(probe_mutex_);
  if (!facts_) facts_ = probe_remote(target_);
  return capabilities_from(target_, *facts_, options_.ledger != nullptr, options_.lease.has_value());
}

// Everything reap needs to reconnect, kill and verify without the spawner.
std::map<std::string, std::string> RemoteSpawner::attributes(const std::string& name,
                                                             const std::string& control_path) const {
  std::map<std::string, std::string> a = {{"host", options_.host},
                                          {"ssh_config", options_.ssh_config},
                                          {"name", name},
                                          {"control_path", control_path},
                                          {"lease_s", std::to_string(lease_seconds(options_.lease))}};
  if (options_.ledger) a["ledger"] = options_.ledger->dir();
  return a;
}

std::vector<ResourceRecord> RemoteSpawner::intended(const std::string& name) const {
  RemoteCgroupRef ref{target_, control_path_, name, "", ""};
  return {
      {{ResourceKind::remote_cgroup, ref.resource_id()},
       ResourceState::intended,
       attributes(name, control_path_)},
      {{ResourceKind::ssh_master, control_path_}, ResourceState::intended, attributes(name, control_path_)}};
}

// The agent's ISOLATE word: "-", "tmp", "ipc" or "tmp,ipc".
std::string isolate_word(const TaskSpec& spec) {
  if (spec.private_tmp && spec.private_ipc) return "tmp,ipc";
  return spec.private_tmp ? "tmp" : spec.private_ipc ? "ipc" : "-";
}

// Starts the agent's run over the master at `control_path`.
RemoteSession RemoteSpawner::launch_session(const TaskSpec& spec, const std::string& name,
                                            const std::string& control_path) const {
  RemoteSession s;
  s.mark = make_mark();
  std::vector<std::string> args = {name,
                                   std::to_string(lease_seconds(options_.lease)),
                                   spec.cwd,
                                   limits_word(spec.limits),
                                   std::to_string(runtime_max_seconds(spec)),
                                   spec.scratch ? scratch_path(spec) : "-",
                                   isolate_word(spec),
                                   std::to_string(spec.env.size())};
  args.insert(args.end(), spec.env.begin(), spec.env.end());
  args.push_back("--");
  args.insert(args.end(), spec.argv.begin(), spec.argv.end());
  // The mark goes first on stdin, never on a command line: the task could read it there, and
  // its stderr is the stream where the mark tells the agent's lines from the task's.
  std::string command = agent_command("-", "run", args);
  if (command.size() > 120 * 1024)
    throw Error(ErrorKind::invalid_argument, "the command line is too long to send over ssh (over 120 KiB)");
  Pipe in = make_pipe(), err = make_pipe();
  if (!write_all(in.write.get(), s.mark + "\n"))
    throw Error(ErrorKind::system, "cannot write the agent's mark into its stdin pipe");
  // Over the master only (never a connection of its own), so the caller sees a refusal and
  // can take another master. The master holds the pipes' other ends from here on.
  s.not_opened = s.mux.start(control_path, command, in.read.get(), spec.stdout_fd >= 0 ? spec.stdout_fd : 1,
                             err.write.get(), Clock::now() + std::chrono::seconds(kConnectTimeout));
  s.heartbeat = std::move(in.write);
  s.stderr_in = std::move(err.read);
  return s;
}

// Reads the agent's stderr up to STARTED (or ERR, or the session's end).
void read_to_started(RemoteSession& s, std::vector<Marker>& reply) {
  MarkerDemux demux(s.mark);
  auto deadline = Clock::now() + std::chrono::seconds(kConnectTimeout + 20);
  char buf[4096];
  // A short task's own EXITED may come before the agent's STARTED: read on to STARTED or ERR.
  auto answered = [&reply] {
    for (const auto& m : reply)
      if (m.word == "STARTED" || m.word == "ERR") return true;
    return false;
  };
  while (!answered()) {
    if (wait_readable(s.stderr_in.get(), deadline) != WaitResult::ready) break;
    ssize_t n = ::read(s.stderr_in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.early_stderr += demux.feed(std::string(buf, static_cast<size_t>(n)));
    for (auto& m : demux.take_markers()) reply.push_back(std::move(m));
  }
}

// sshd refuses a session beyond its MaxSessions on one connection; nothing has run on the
// remote then, so the task's session is started again over the next master of the pool.
bool refused_by_master(const RemoteSession& s) {
  return s.not_opened == kSessionRefused;
}

// The least loaded master first (pool_by_load). After a refusal, a master carrying as many
// sessions as the one that refused is passed over: it is as full.
RemoteSession RemoteSpawner::session_on_a_master(const TaskSpec& spec, RemoteBoundary& boundary,
                                                 SpawnTransaction& txn, std::vector<Marker>& reply) const {
  RemoteCgroupRef& ref = boundary.ref();
  std::vector<PoolMaster> pool = pool_by_load(control_path_);
  std::optional<std::size_t> refused_at;
  RemoteSession session;
  for (const PoolMaster& candidate : pool) {
    if (refused_at && candidate.sessions && *candidate.sessions >= *refused_at) continue;
    ref.control_path = candidate.control_path;
    MasterHold hold;
    int master = ensure_master(target_, ref.control_path, hold);
    boundary.took_master(std::move(hold));
    crash_point("remote-master-taken");
    TaskRecord& record = txn.record();
    for (auto& res : record.resources) res.attributes["control_path"] = ref.control_path;
    record.resources[1].resource.id = ref.control_path;
    record.resources[1].state = ResourceState::created;
    record.resources[1].attributes["pid"] = std::to_string(master);
    txn.save();
    reply.clear();
    session = launch_session(spec, ref.name, ref.control_path);
    // Opened beside the task's session, which goes first: both get ready together.
    if (options_.kill_session_ahead > Duration::zero())
      boundary.hold_standby(StandbyKill::open(ref, Clock::now() + options_.kill_session_ahead));
    if (session.not_opened.empty())
      session.not_opened = session.mux.opened(Clock::now() + std::chrono::seconds(kConnectTimeout));
    if (session.not_opened.empty()) read_to_started(session, reply);
    if (!refused_by_master(session) || &candidate == &pool.back()) return session;
    logger().debug("task {}: the master {} refused a session (sshd's MaxSessions): taking the next", spec.id,
                   ref.control_path);
    if (candidate.sessions)
      refused_at = std::min(*candidate.sessions, refused_at.value_or(*candidate.sessions));
    session.mux.kill();
    boundary.hold_standby({});  // on that master too: it goes with the task's next session
    boundary.release_master();
  }
  return session;  // every master refused it: started_marker says why
}

// The agent's answer to a start: STARTED, else why not (its ERR, an installed cgspawn's
// refusal, or ssh's own words).
const Marker& started_marker(RemoteSession& session, const std::vector<Marker>& reply,
                             const SshTarget& target) {
  for (const auto& m : reply)
    if (m.word == "STARTED") return m;
  session.mux.kill();
  std::string why = session.not_opened.empty() ? one_line(session.early_stderr)
                                               : "no session over the master: " + session.not_opened;
  for (const auto& m : reply)
    if (m.word == "ERR") why = "ERR " + m.text;
  if (why.rfind("ERR ", 0) == 0) why.erase(0, 4) += installed_cgspawn_says(session.early_stderr);
  throw Error(ErrorKind::system, "cannot start the task on " + target.display() + ": " +
                                     (why.empty() ? "the session ended without an answer" : why));
}

// The boundary exists on the remote: the record names it, as the agent reported it.
void record_started(ResourceRecord& res, const RemoteCgroupRef& ref, const Marker& started) {
  res.resource = {ref.resource_kind(), ref.resource_id()};
  if (!ref.unit.empty()) res.attributes["unit"] = ref.unit;
  res.attributes["via"] = started.field("via");
  res.state = ResourceState::created;
  res.attributes["cgroup"] = ref.cgroup;
  res.attributes["boot_id"] = started.field("boot_id");
  res.attributes["remote_host"] = started.field("host");
}

std::unique_ptr<Task> RemoteSpawner::spawn(const TaskSpec& input) {
  TaskSpec spec = prepared_spec(input);
  std::string name = kTaskPrefix + origin_ + "-" + spec.id;
  // Fsynced: what it names outlives a reboot of this machine.
  SpawnTransaction txn(recording_of(options_, true), spec, "remote", intended(name));
  auto& boundary =
      txn.adopt(std::make_unique<RemoteBoundary>(RemoteCgroupRef{target_, control_path_, name, "", ""},
                                                 options_.lease, spec.stderr_fd, ledger_dir(), spec.id));
  if (spec.scratch)  // made by the agent's run; removed after the boundary, by a session of its own
    txn.add_storage(
        remote_scratch_record(scratch_path(spec), spec.keep_scratch, attributes(name, control_path_)),
        remove_remote_scratch);
  std::vector<Marker> reply;
  RemoteSession session = session_on_a_master(spec, boundary, txn, reply);
  for (const auto& m : reply)
    if (m.word == "SCRATCH-EXISTS") txn.drop_storage();  // someone else's: never removed
  const Marker& started = started_marker(session, reply, target_);
  RemoteCgroupRef& ref = boundary.ref();
  ref.cgroup = started.field("cgroup");
  if (std::string unit = started.field("unit"); unit != "-") ref.unit = unit;
  logger().debug("task {}: remote cgroup {} on {}, pids {}", spec.id, ref.cgroup, target_.display(),
                 started.field("pids"));
  record_started(txn.record().resources[0], ref, started);
  boundary.attach(std::move(session), reply);
  return txn.commit(std::move(spec), boundary.started());
}

}  // namespace
}  // namespace remote

std::unique_ptr<Spawner> make_remote_backend(const BackendOptions& options) {
  if (options.host.empty())
    throw Error(ErrorKind::invalid_argument, "the remote backend needs --host [USER@]HOST[:PORT]");
  // The agent counts the lease in whole seconds and gets three heartbeats per lease: a
  // shorter one would expire on a healthy connection.
  if (options.lease && *options.lease < std::chrono::seconds(3))
    throw Error(ErrorKind::invalid_argument,
                "--lease " + format_seconds(std::chrono::duration<double>(*options.lease).count()) +
                    " is too short: use at least 3s, or none");
  return std::make_unique<remote::RemoteSpawner>(options);
}

Capabilities remote_backend_capabilities(const BackendOptions& options) {
  return capabilities_by_making("remote", make_remote_backend, options);
}

}  // namespace cgspawn
