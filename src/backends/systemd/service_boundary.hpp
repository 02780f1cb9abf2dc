// SPDX-License-Identifier: MIT
// The systemd backend's boundary for --unit-type service: the transient unit
// cgspawn-<id>.service that systemd starts and supervises. Its main process is systemd's
// child, not ours: cgspawn watches it through a pidfd and takes the exit status from the
// unit's ExecMainCode/ExecMainStatus.
#pragma once

#include <sys/types.h>

#include <memory>

#include "backends/systemd/unit_destroy.hpp"
#include "task/boundary.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::systemd {

class ServiceBoundary final : public Boundary {
 public:
  ServiceBoundary(std::unique_ptr<Manager> manager, UnitRef unit);

  UnitRef& unit() { return unit_; }
  Manager& manager() { return *manager_; }
  // `main_pid`: the unit's MainPID (0 when it had already exited).
  void watch(pid_t main_pid);

  int poll_fd() const override { return watch_.get(); }
  std::optional<MainExit> peek_exit() override;
  std::optional<HangReport> hang_report() override { return unit_hang_report(unit_, 0); }
  bool shares_host_tmp() const override { return true; }
  std::optional<LineageRoot> lineage_root(std::string& why) const override {
    why =
        "a service's processes are the manager's children, not cgspawn's: they are not followed by descent "
        "(the unit's cgroup bounds them)";
    return std::nullopt;
  }
  std::vector<ResourceOutcome> destroy(const DestroyOptions& options, Usage& usage) override;
  std::optional<ExitStatus> reap_main(std::optional<ExitStatus> known) override;

 private:
  bool main_ended() const;
  std::optional<ExitStatus> exec_main_status();  // once systemd has recorded the exit

  std::unique_ptr<Manager> manager_;
  UnitRef unit_;
  UniqueFd watch_;  // the main process's pidfd; or a pipe at EOF when it was gone already
  std::optional<ExitStatus> exit_;
};

}  // namespace cgspawn::systemd
