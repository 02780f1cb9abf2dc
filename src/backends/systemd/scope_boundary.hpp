// SPDX-License-Identifier: MIT
// The systemd backend's boundary for a scope: the transient unit cgspawn-<id>.scope, the main
// process (cgspawn's child, held by its pidfd) and the scope's anchor, destroyed through the
// manager connection the scope was started on.
#pragma once

#include <memory>

#include "backends/systemd/unit_destroy.hpp"
#include "launch/held_child.hpp"
#include "launch/launcher.hpp"
#include "launch/main_process.hpp"
#include "lineage/lineage.hpp"
#include "task/boundary.hpp"

namespace cgspawn::systemd {

class ScopeBoundary final : public Boundary {
 public:
  ScopeBoundary(std::unique_ptr<Manager> manager, UnitRef unit, std::unique_ptr<Anchor> anchor);

  UnitRef& unit() { return unit_; }
  Manager& manager() { return *manager_; }
  void launched(Launched main) { main_ = MainProcess(std::move(main)); }
  Clock::time_point started() const { return main_.started(); }

  int poll_fd() const override { return main_.pidfd(); }
  std::optional<MainExit> peek_exit() override;
  std::vector<ResourceOutcome> destroy(const DestroyOptions& options, Usage& usage) override;
  std::optional<ExitStatus> reap_main(std::optional<ExitStatus> known) override;
  std::optional<HangReport> hang_report() override { return unit_hang_report(unit_, anchor_->pid()); }
  bool shares_host_tmp() const override { return true; }
  std::optional<LineageRoot> lineage_root(std::string&) const override {
    return LineageRoot{main_.pid(), cgroup_relative(unit_.cgroup)};
  }

 private:
  std::unique_ptr<Manager> manager_;
  UnitRef unit_;
  std::unique_ptr<Anchor> anchor_;
  MainProcess main_;
};

}  // namespace cgspawn::systemd
