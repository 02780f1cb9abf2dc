// SPDX-License-Identifier: MIT
// The remote backend's boundary: a cgroup or unit on another host, made by the agent over an
// ssh session on a master (a pooled ControlMaster connection). Locally it is that session: a
// pump thread forwards the task's stderr (minus the agent's lines), sends the lease's
// heartbeats, and turns the agent's EXITED line into the main program's end.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backends/remote/destroy_master.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/master_users.hpp"
#include "backends/remote/mux_session.hpp"
#include "backends/remote/remote_kill.hpp"
#include "backends/remote/standby_kill.hpp"
#include "task/boundary.hpp"

namespace cgspawn::remote {

struct RemoteSession {
  MuxSession mux;
  std::string not_opened;  // why the master did not open it (empty: it did)
  UniqueFd heartbeat;      // the session's stdin: the agent's lease channel
  UniqueFd stderr_in;      // the session's stderr: agent lines + the task's stderr
  std::string mark;
  std::string early_stderr;  // what came before STARTED, forwarded once the task runs
  Clock::time_point started =
      Clock::now();  // when the session was started: the task's wall time counts from here
};

class RemoteBoundary final : public Boundary {
 public:
  // `stderr_fd`: where the task's stderr goes (-1: cgspawn's own). `ledger_dir`: whose tasks
  // count as a master's other users.
  RemoteBoundary(RemoteCgroupRef ref, std::optional<Duration> lease, int stderr_fd, std::string ledger_dir,
                 std::string task_id);
  ~RemoteBoundary() override;

  RemoteCgroupRef& ref() { return ref_; }
  // This task uses the master at ref().control_path from now on (counted among its users).
  void took_master(MasterHold hold) {
    master_hold_ = std::move(hold);
    master_taken_ = true;
  }
  // Lets go of the master (the task's session goes to another one of the pool).
  ResourceOutcome release_master();
  // The task runs: `early` are the agent's lines that came with STARTED (a short task's
  // EXITED may be among them). Starts the pump.
  void attach(RemoteSession session, const std::vector<Marker>& early);
  // A kill session held ready for the destroy (before attach; the pump lets it go at its time).
  void hold_standby(StandbyKill standby) { standby_ = std::move(standby); }
  Clock::time_point started() const { return session_.started; }

  int poll_fd() const override { return exit_event_.get(); }
  std::optional<MainExit> peek_exit() override;
  std::optional<LineageRoot> lineage_root(std::string& why) const override {
    why =
        "a remote task's processes are not followed by descent (only its remote cgroup or unit is destroyed)";
    return std::nullopt;
  }
  std::vector<ResourceOutcome> destroy(const DestroyOptions& options, Usage& usage) override;
  std::optional<ExitStatus> reap_main(std::optional<ExitStatus> known) override;
  std::optional<HangReport> hang_report() override;  // taken on the remote by the agent

 private:
  void pump();
  void on_marker(const Marker& marker);
  void send_heartbeat();
  void stop_pump();
  int pump_standby(Clock::time_point& wake);
  std::optional<std::vector<Marker>> hang_over_destroy_master(StandbyKill& standby,
                                                              Clock::time_point deadline);
  void set_exit(ExitStatus status, std::string lost);
  ResourceOutcome destroy_remote(const DestroyOptions& options);
  std::string last_heartbeat_text();

  RemoteCgroupRef ref_;
  std::optional<Duration> lease_;
  int stderr_fd_;
  std::string ledger_dir_;
  std::string task_id_;
  bool master_taken_ = false;
  MasterHold master_hold_;   // master_users.hpp
  BorrowedMaster borrowed_;  // a destroy master its destroy's session runs over (destroy_master.hpp)
  RemoteSession session_;
  UniqueFd exit_event_;  // eventfd: readable once the main program's end is known
  UniqueFd stop_event_;  // eventfd: tells the pump to stop
  std::thread pump_;
  std::mutex mutex_;  // guards exit_, lost_, last_heartbeat_ and standby_ (the pump writes them)
  StandbyKill standby_;
  std::optional<MainExit> exit_;
  std::string lost_;  // why the session ended without the agent's EXITED
  std::chrono::system_clock::time_point last_heartbeat_;
};

}  // namespace cgspawn::remote
