// SPDX-License-Identifier: MIT
// The process backend's boundary: the task cgroup, made by cgspawn, and the main process
// born in it (clone3 into the cgroup), held by its pidfd. Without cgroup2 the task is its own
// process group instead.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cgroup/cgroup.hpp"
#include "cgroup/parent.hpp"
#include "launch/launcher.hpp"
#include "launch/main_process.hpp"
#include "task/boundary.hpp"

namespace cgspawn {

class ProcessBoundary final : public Boundary {
 public:
  // `cgroup` empty: no cgroup2 on this host. `parents`: which of its parent cgroups go after
  // the task if they are then empty.
  ProcessBoundary(std::optional<Cgroup> cgroup, ParentPruning parents);

  const std::optional<Cgroup>& cgroup() const { return cgroup_; }
  // Starts the main program in the boundary. Returns its pid.
  pid_t launch(LaunchRequest request);
  Clock::time_point started() const { return main_.started(); }

  int poll_fd() const override { return main_.pidfd(); }
  std::optional<MainExit> peek_exit() override;
  std::vector<ResourceOutcome> destroy(const DestroyOptions& options, Usage& usage) override;
  std::optional<ExitStatus> reap_main(std::optional<ExitStatus> known) override;
  std::optional<HangReport> hang_report() override;
  bool shares_host_tmp() const override { return true; }
  std::optional<LineageRoot> lineage_root(std::string& why) const override;

 private:
  std::optional<Cgroup> cgroup_;
  ParentPruning parents_;
  MainProcess main_;
};

}  // namespace cgspawn
