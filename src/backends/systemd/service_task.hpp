// ServiceTask: one task as a transient service cgspawn-<id>.service, supervised by systemd
// (--unit-type service). Its main process is systemd's child, not ours: cgspawn watches it
// through a pidfd and takes the exit status from the unit's ExecMainCode/ExecMainStatus.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "backends/systemd/manager.hpp"
#include "backends/systemd/systemd_task.hpp"
#include "backends/systemd/unit_destroy.hpp"
#include "cgspawn/spawner.hpp"
#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::systemd {

class ServiceTask final : public Task {
 public:
  // `main_pid`: the unit's MainPID (0 when it had already exited).
  ServiceTask(TaskSpec spec, std::unique_ptr<Manager> manager, UnitRef unit, pid_t main_pid,
              Clock::time_point started, TaskRecordRef record);
  ~ServiceTask() override;

  const std::string& id() const override { return spec_.id; }
  const std::string& backend() const override { return backend_; }
  int poll_fd() const override { return watch_.get(); }
  std::optional<ExitStatus> try_wait() override;
  Result wait() override;
  Result finish(const DestroyOptions& options, ExitReason reason_if_running) override;

 private:
  bool main_ended() const;
  std::optional<ExitStatus> exec_main_status();  // once systemd has recorded the exit

  TaskSpec spec_;
  std::string backend_ = "systemd";
  std::unique_ptr<Manager> manager_;
  UnitRef unit_;
  UniqueFd watch_;  // the main process's pidfd; or a pipe at EOF when it was gone already
  Clock::time_point started_;
  TaskRecordRef record_;
  std::optional<ExitStatus> exit_;
  std::optional<Clock::time_point> ended_;
  bool finished_ = false;
};

}  // namespace cgspawn::systemd
