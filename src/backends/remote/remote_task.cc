#include "backends/remote/remote_task.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/finish_on_drop.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/ssh_master.hpp"
#include "backends/task_result.hpp"
#include "cgspawn/error.hpp"
#include "report/rows.hpp"
#include "util/crash_point.hpp"

namespace cgspawn::remote {
namespace {

UniqueFd make_eventfd() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd.valid()) throw Error(ErrorKind::system, "eventfd failed");
  return fd;
}

void signal_event(int fd) {
  uint64_t one = 1;
  ssize_t ignored = ::write(fd, &one, sizeof one);
  (void)ignored;
}

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the caller's stderr is gone: nothing to forward to
    done += static_cast<size_t>(n);
  }
}

// The shell's $? folds a signal death into 128+N; the agent cannot tell them apart either.
ExitStatus status_from_rc(int rc) {
  ExitStatus s;
  if (rc > 128 && rc < 128 + 65) {
    s.signal = rc - 128;
    s.reason = ExitReason::signaled;
  } else {
    s.code = rc;
  }
  return s;
}

// Heartbeats well inside the lease: three per lease, so one lost write never expires it.
Duration heartbeat_period(std::optional<Duration> lease) {
  if (!lease) return std::chrono::hours(24);
  return std::max<Duration>(*lease / 3, std::chrono::milliseconds(200));
}

}  // namespace

RemoteTask::RemoteTask(TaskSpec spec, RemoteCgroupRef ref, std::optional<Duration> lease, RemoteSession session,
                       const std::vector<Marker>& early)
    : spec_(std::move(spec)),
      ref_(std::move(ref)),
      lease_(lease),
      session_(std::move(session)),
      exit_event_(make_eventfd()),
      stop_event_(make_eventfd()),
      last_heartbeat_(std::chrono::system_clock::now()),
      started_(session_.started) {
  ::fcntl(session_.heartbeat.get(), F_SETFL, O_NONBLOCK);  // a stuck channel never blocks the pump
  if (!session_.early_stderr.empty()) write_all(spec_.stderr_fd >= 0 ? spec_.stderr_fd : 2, session_.early_stderr);
  for (const auto& m : early) on_marker(m.word, m.text);
  pump_ = std::thread([this] { pump(); });
}

RemoteTask::~RemoteTask() {
  if (!finished_) finish_on_drop(*this);
  stop_pump();
}

void RemoteTask::on_marker(const std::string& word, const std::string& text) {
  if (word != "EXITED") return;  // STARTED came before the pump; ENDED follows our own destroy
  Marker m{word, text};
  std::lock_guard lock(mutex_);
  if (exit_) return;
  exit_ = status_from_rc(std::atoi(m.field("rc").c_str()));
  ended_ = Clock::now();
  signal_event(exit_event_.get());
}

void RemoteTask::send_heartbeat() {
  if (!lease_ || !session_.heartbeat.valid()) return;
  if (::write(session_.heartbeat.get(), "h", 1) == 1) {
    std::lock_guard lock(mutex_);
    last_heartbeat_ = std::chrono::system_clock::now();
  }
}

void RemoteTask::pump() {
  MarkerDemux demux(session_.mark);
  int out = spec_.stderr_fd >= 0 ? spec_.stderr_fd : 2;
  std::string tail;  // the last non-agent stderr: ssh's own reason, if the session dies
  auto next_beat = Clock::now() + heartbeat_period(lease_);
  char buf[8192];
  for (;;) {
    auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(next_beat - Clock::now()).count();
    pollfd fds[2] = {{session_.stderr_in.get(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::max<long long>(0, wait_ms)));
    if (n < 0 && errno != EINTR) break;
    if (fds[1].revents) return;
    if (Clock::now() >= next_beat) {
      send_heartbeat();
      next_beat = Clock::now() + heartbeat_period(lease_);
    }
    if (n <= 0 || !fds[0].revents) continue;
    ssize_t got = ::read(session_.stderr_in.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the session ended
    std::string pass = demux.feed(std::string(buf, static_cast<size_t>(got)));
    write_all(out, pass);
    tail = (tail + pass).substr(tail.size() + pass.size() > 400 ? tail.size() + pass.size() - 400 : 0);
    for (const auto& m : demux.take_markers()) on_marker(m.word, m.text);
  }
  write_all(out, demux.flush());
  for (const auto& m : demux.take_markers()) on_marker(m.word, m.text);
  std::lock_guard lock(mutex_);
  if (!exit_) {  // the connection died before the task's end: its status is unknown
    lost_ = "the ssh session to " + ref_.target.display() + " ended before the task did" +
            (one_line(tail).empty() ? "" : ": " + one_line(tail));
    exit_ = ExitStatus{};
    ended_ = Clock::now();
    signal_event(exit_event_.get());
  }
}

void RemoteTask::stop_pump() {
  if (!pump_.joinable()) return;
  signal_event(stop_event_.get());
  pump_.join();
}

std::optional<ExitStatus> RemoteTask::try_wait() {
  std::lock_guard lock(mutex_);
  return exit_;
}

Result RemoteTask::wait() {
  auto deadline = spec_.timeout ? started_ + *spec_.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(exit_event_.get(), deadline);
  DestroyOptions options;
  options.grace = spec_.grace;
  return finish(options, r == WaitResult::ready ? ExitReason::destroyed : ExitReason::timed_out);
}

std::string RemoteTask::last_heartbeat_text() {
  std::lock_guard lock(mutex_);
  return utc_time(last_heartbeat_);
}

// Destroys over a second session (the master, while it lives). If that fails, the task's
// own session is cut too: the agent then sees EOF if the host is reachable at all, and its
// lease runs out if it is not.
ResourceOutcome RemoteTask::destroy_remote(const DestroyOptions& options) {
  RemoteCgroupRef ref = ref_;
  ref.if_unreachable = lease_promise(ref_.cgroup, lease_, last_heartbeat_text());
  ResourceOutcome row = kill_remote_cgroup(ref, options);
  if (!lease_) row.detail += "; the task had no lease (--lease none): had this side died, nothing would have stopped it";
  bool verified = row.outcome == Outcome::destroyed || row.outcome == Outcome::already_gone;
  stop_pump();
  session_.heartbeat.reset();  // EOF for the agent: after a verified destroy it just says ENDED
  if (!verified || !session_.ssh.wait(Clock::now() + std::chrono::seconds(3))) session_.ssh.kill();
  return row;
}

ResourceOutcome RemoteTask::release_master() {
  if (ref_.control_path.empty()) return make_row({std::string(kind::ssh_master), ""}, Outcome::kept, "no master was used");
  master_let_go(ref_.control_path);
  return close_master(ref_.target, ref_.control_path, {ledger_ ? ledger_->dir() : "", spec_.id});
}

void RemoteTask::attach_record(std::shared_ptr<const Ledger> ledger, TaskRecord record, bool keep) {
  ledger_ = std::move(ledger);
  record_ = std::move(record);
  keep_record_ = keep;
}

void RemoteTask::record_result(const Result& result) {
  if (ledger_) record_finished(*ledger_, record_, result, keep_record_, true);
}

Result RemoteTask::finish(const DestroyOptions& options, ExitReason reason_if_running) {
  if (finished_) throw Error(ErrorKind::invalid_argument, "task " + spec_.id + " is already finished");
  finished_ = true;
  bool was_running = !try_wait().has_value();
  Result result = result_for(spec_, backend_);
  crash_point("finish-before-destroy");
  ResourceOutcome row = destroy_remote(options);
  crash_point("finish-after-destroy");
  {
    std::lock_guard lock(mutex_);
    if (!exit_) exit_ = ExitStatus{};
    if (!ended_) ended_ = Clock::now();
    if (was_running) exit_->reason = reason_if_running;
    if (!lost_.empty() && row.outcome != Outcome::destroyed) row.detail += " (" + lost_ + ")";
    result.exit = *exit_;
    result.usage.wall_seconds = seconds_between(started_, *ended_);
  }
  result.cleanup.resources.push_back(std::move(row));
  result.cleanup.resources.push_back(release_master());
  record_result(result);
  return result;
}

}  // namespace cgspawn::remote
