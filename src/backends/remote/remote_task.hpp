// RemoteTask: one task on a remote host. Locally it is one ssh session running the agent;
// a pump thread forwards the task's stderr (minus the agent's lines), sends the lease's
// heartbeats, and turns the agent's EXITED line into the task's exit.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "backends/remote/markers.hpp"
#include "backends/remote/remote_kill.hpp"
#include "backends/remote/ssh_process.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn::remote {

struct RemoteSession {
  SshProcess ssh;
  UniqueFd heartbeat;  // ssh's stdin: the agent's lease channel
  UniqueFd stderr_in;  // ssh's stderr: agent lines + the task's stderr
  std::string mark;
  std::string early_stderr;  // what came before STARTED, forwarded once the task runs
  Clock::time_point started = Clock::now();  // when the session was started: the task's wall time counts from here
};

class RemoteTask final : public Task {
 public:
  // `early`: the agent's lines that came with STARTED (a short task's EXITED may be among them).
  RemoteTask(TaskSpec spec, RemoteCgroupRef ref, std::optional<Duration> lease, RemoteSession session,
             const std::vector<Marker>& early);
  ~RemoteTask() override;

  const std::string& id() const override { return spec_.id; }
  const std::string& backend() const override { return backend_; }
  int poll_fd() const override { return exit_event_.get(); }
  std::optional<ExitStatus> try_wait() override;
  Result wait() override;
  Result finish(const DestroyOptions& options, ExitReason reason_if_running) override;

  void attach_record(std::shared_ptr<const Ledger> ledger, TaskRecord record, bool keep);

 private:
  void pump();
  void on_marker(const std::string& word, const std::string& text);
  void send_heartbeat();
  void stop_pump();
  ResourceOutcome destroy_remote(const DestroyOptions& options);
  ResourceOutcome release_master();
  void record_result(const Result& result);
  std::string last_heartbeat_text();

  TaskSpec spec_;
  std::string backend_ = "remote";
  RemoteCgroupRef ref_;
  std::optional<Duration> lease_;
  RemoteSession session_;
  UniqueFd exit_event_;  // eventfd: readable once the main program's end is known
  UniqueFd stop_event_;  // eventfd: tells the pump to stop
  std::thread pump_;
  std::mutex mutex_;
  std::optional<ExitStatus> exit_;
  std::string lost_;  // why the session ended without the agent's EXITED
  std::chrono::system_clock::time_point last_heartbeat_;
  Clock::time_point started_;
  std::optional<Clock::time_point> ended_;
  bool finished_ = false;
  std::shared_ptr<const Ledger> ledger_;
  TaskRecord record_;
  bool keep_record_ = false;
};

}  // namespace cgspawn::remote
