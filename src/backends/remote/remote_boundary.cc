// SPDX-License-Identifier: MIT
#include "backends/remote/remote_boundary.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backends/remote/destroy_master.hpp"
#include "backends/remote/remote_hang.hpp"
#include "backends/remote/ssh_master.hpp"
#include "cgspawn/error.hpp"
#include "report/rows.hpp"
#include "util/file_io.hpp"
#include "util/logger.hpp"

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

// A kill session opened for the destroy that follows a hang report waits this long at most:
// the report's own bound (a hung host) and more.
constexpr auto kHeldForDestroy = std::chrono::seconds(60);

// The hang report's request over `standby`, opened over `ref`'s master first if it is not held.
std::optional<std::vector<Marker>> ask_hang(StandbyKill& standby, const RemoteCgroupRef& ref, Mux mux,
                                            Clock::time_point deadline) {
  if (!standby.usable()) standby = StandbyKill::open(ref, Clock::now() + kHeldForDestroy, mux);
  return standby.hang(deadline);
}

// Heartbeats well inside the lease: three per lease, so one lost write never expires it.
Duration heartbeat_period(std::optional<Duration> lease) {
  if (!lease) return std::chrono::hours(24);
  return std::max<Duration>(*lease / 3, std::chrono::milliseconds(200));
}

}  // namespace

RemoteBoundary::RemoteBoundary(RemoteCgroupRef ref, std::optional<Duration> lease, int stderr_fd,
                               std::string ledger_dir, std::string task_id)
    : ref_(std::move(ref)),
      lease_(lease),
      stderr_fd_(stderr_fd >= 0 ? stderr_fd : 2),
      ledger_dir_(std::move(ledger_dir)),
      task_id_(std::move(task_id)),
      exit_event_(make_eventfd()),
      stop_event_(make_eventfd()),
      last_heartbeat_(std::chrono::system_clock::now()) {}

RemoteBoundary::~RemoteBoundary() {
  stop_pump();
  if (borrowed_.control_path.empty()) return;
  try {
    return_destroy_master(ref_.target, borrowed_);  // a hang report with no destroy after it
  } catch (const std::exception& e) {
    logger().debug("task {}: the destroy master {} not closed: {}", task_id_, borrowed_.control_path,
                   e.what());
  }
}

void RemoteBoundary::attach(RemoteSession session, const std::vector<Marker>& early) {
  session_ = std::move(session);
  ::fcntl(session_.heartbeat.get(), F_SETFL, O_NONBLOCK);  // a stuck channel never blocks the pump
  if (!session_.early_stderr.empty()) write_all(stderr_fd_, session_.early_stderr);
  for (const auto& m : early) on_marker(m);
  pump_ = std::thread([this] { pump(); });
}

void RemoteBoundary::set_exit(ExitStatus status, std::string lost) {
  std::lock_guard lock(mutex_);
  if (exit_) return;
  exit_ = MainExit{status};
  lost_ = std::move(lost);
  signal_event(exit_event_.get());
}

void RemoteBoundary::on_marker(const Marker& m) {
  // Only EXITED matters here: STARTED came before the pump, and the session's end that follows
  // ENDED is the pump's to see.
  if (m.word == "EXITED") set_exit(status_from_rc(std::atoi(m.field("rc").c_str())), "");
}

void RemoteBoundary::send_heartbeat() {
  if (!lease_ || !session_.heartbeat.valid()) return;
  if (::write(session_.heartbeat.get(), "h", 1) == 1) {
    std::lock_guard lock(mutex_);
    last_heartbeat_ = std::chrono::system_clock::now();
  }
}

// The standby's part of a pump turn: lets it go once its time is up, reaps its ssh once ended.
// Returns its pidfd while it is to be watched (else -1), and brings `wake` forward to its time.
int RemoteBoundary::pump_standby(Clock::time_point& wake) {
  std::lock_guard lock(mutex_);
  if (!standby_.running()) return -1;
  standby_.reap();
  if (!standby_.running()) return -1;
  if (!standby_.let_go_already()) {
    if (Clock::now() >= standby_.until())
      standby_.let_go();
    else
      wake = std::min(wake, standby_.until());
  }
  return standby_.pidfd();
}

void RemoteBoundary::pump() {
  // A heartbeat written after the session's ssh has exited (its master died: a hung host) must
  // fail with EPIPE, not kill the caller: SIGPIPE goes to the writing thread, and a library
  // thread cannot rely on its caller ignoring it.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  MarkerDemux demux(session_.mark);
  std::string tail;  // the last non-agent stderr: ssh's own reason, if the session dies
  auto next_beat = Clock::now() + heartbeat_period(lease_);
  char buf[8192];
  for (;;) {
    auto wake = next_beat;
    int standby = pump_standby(wake);
    auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
    pollfd fds[3] = {
        {session_.stderr_in.get(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}, {standby, POLLIN, 0}};
    int n = ::poll(fds, standby >= 0 ? 3 : 2, static_cast<int>(std::max<long long>(0, wait_ms)));
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
    write_all(stderr_fd_, pass);
    tail = (tail + pass).substr(tail.size() + pass.size() > 400 ? tail.size() + pass.size() - 400 : 0);
    for (const auto& m : demux.take_markers()) on_marker(m);
  }
  write_all(stderr_fd_, demux.flush());
  for (const auto& m : demux.take_markers()) on_marker(m);
  // The connection died before the task's end: its status is unknown.
  set_exit(ExitStatus{}, "the ssh session to " + ref_.target.display() + " ended before the task did" +
                             (one_line(tail).empty() ? "" : ": " + one_line(tail)));
}

void RemoteBoundary::stop_pump() {
  if (!pump_.joinable()) return;
  signal_event(stop_event_.get());
  pump_.join();
}

std::optional<MainExit> RemoteBoundary::peek_exit() {
  std::lock_guard lock(mutex_);
  return exit_;
}

std::string RemoteBoundary::last_heartbeat_text() {
  std::lock_guard lock(mutex_);
  return utc_time(last_heartbeat_);
}

// Destroys over a second session (the master, while it lives). If that fails, the task's
// own session is cut too: the agent then sees EOF if the host is reachable at all, and its
// lease runs out if it is not.
ResourceOutcome RemoteBoundary::destroy_remote(const DestroyOptions& options) {
  RemoteCgroupRef ref = ref_;
  ref.if_unreachable = lease_promise(ref_.cgroup, lease_, last_heartbeat_text());
  StandbyKill standby;
  {
    std::lock_guard lock(mutex_);
    standby = std::move(standby_);
  }
  ResourceOutcome row = kill_remote_cgroup(ref, options, standby.usable() ? &standby : nullptr);
  if (!lease_)
    row.detail += "; the task had no lease (--lease none): had this side died, nothing would have stopped it";
  bool verified = row.outcome == Outcome::destroyed || row.outcome == Outcome::already_gone;
  stop_pump();
  session_.heartbeat.reset();  // EOF for the agent: after a verified destroy it just says ENDED
  if (session_.mux.running() && (!verified || !session_.mux.wait(Clock::now() + std::chrono::seconds(3))))
    session_.mux.kill();
  std::lock_guard lock(mutex_);
  if (!lost_.empty() && row.outcome != Outcome::destroyed) row.detail += " (" + lost_ + ")";
  return row;
}

ResourceOutcome RemoteBoundary::release_master() {
  if (!master_taken_)
    return make_row({ResourceKind::ssh_master, ref_.control_path}, Outcome::kept, "no master was used");
  master_taken_ = false;
  master_hold_.release();
  return close_master(ref_.target, ref_.control_path, {ledger_dir_, task_id_});
}

// Nothing was made anywhere before a master was taken: then there is nothing to destroy.
std::vector<ResourceOutcome> RemoteBoundary::destroy(const DestroyOptions& options, Usage&) {
  if (!master_taken_) return {};
  std::vector<ResourceOutcome> rows;
  rows.push_back(destroy_remote(options));
  rows.push_back(release_master());
  if (!borrowed_.control_path.empty()) rows.push_back(return_destroy_master(ref_.target, borrowed_));
  return rows;
}

std::optional<ExitStatus> RemoteBoundary::reap_main(std::optional<ExitStatus> known) {
  if (known) return known;
  std::lock_guard lock(mutex_);
  if (exit_) return exit_->status;
  return std::nullopt;
}

// The report is asked of the kill session (the one `run` holds, else one opened now), and the
// destroy that follows at once sends its kill there: one session for both. Over the task's
// master; where sshd refuses it there (MaxSessions: the refusal comes before anything ran),
// over a destroy master of the pool (destroy_master.hpp); failing those, over a connection of
// ssh's own.
std::optional<HangReport> RemoteBoundary::hang_report() {
  StandbyKill standby;
  {
    std::lock_guard lock(mutex_);
    standby = std::move(standby_);
  }
  auto deadline = Clock::now() + kHangBound;  // for every try: a hung host is waited for once
  std::optional<std::vector<Marker>> markers = ask_hang(standby, ref_, Mux::client_only, deadline);
  if (!markers && standby.refused()) markers = hang_over_destroy_master(standby, deadline);
  if (!markers && Clock::now() < deadline) markers = ask_hang(standby, ref_, Mux::client, deadline);
  std::lock_guard lock(mutex_);
  standby_ = std::move(standby);
  if (!markers) return std::nullopt;
  return hang_from_markers(*markers, ref_.target.display());
}

// The destroy masters in turn, while they refuse the session; the one that takes it is held
// (borrowed_) until the destroy is done.
std::optional<std::vector<Marker>> RemoteBoundary::hang_over_destroy_master(StandbyKill& standby,
                                                                            Clock::time_point deadline) {
  std::string first = control_path_for(ref_.target, ledger_dir_);
  for (int k = 0; k < kMasterPool && Clock::now() < deadline; ++k) {
    RemoteCgroupRef via = ref_;
    via.control_path = destroy_master_path(first, k);
    BorrowedMaster master;
    try {
      master = borrow_destroy_master(ref_.target, via.control_path);
    } catch (const std::exception& e) {
      logger().debug("task {}: no destroy master: {}", task_id_, e.what());
      return std::nullopt;  // no new connection to that host now: ssh's own would fail as well
    }
    standby = StandbyKill::open(via, Clock::now() + kHeldForDestroy);
    if (auto markers = standby.hang(deadline)) {
      borrowed_ = std::move(master);
      return markers;
    }
    bool refused = standby.refused();
    return_destroy_master(ref_.target, master);
    if (!refused) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace cgspawn::remote
