// SPDX-License-Identifier: MIT
#include "backends/process/process_boundary.hpp"

#include "backends/process/process_group.hpp"
#include "cgroup/destroy.hpp"
#include "cgroup/parent.hpp"
#include "cgroup/usage.hpp"
#include "hang/hang_report.hpp"
#include "launch/main_process.hpp"
#include "lineage/lineage.hpp"

namespace cgspawn {

ProcessBoundary::ProcessBoundary(std::optional<Cgroup> cgroup, ParentPruning parents)
    : cgroup_(std::move(cgroup)), parents_(std::move(parents)) {}

pid_t ProcessBoundary::launch(LaunchRequest request) {
  if (cgroup_) request.cgroup_fd = cgroup_->dirfd();
  request.new_process_group = !cgroup_;
  main_ = MainProcess(cgspawn::launch(request));
  return main_.pid();
}

std::optional<MainExit> ProcessBoundary::peek_exit() {
  if (auto status = main_.peek()) return MainExit{*status};
  return std::nullopt;
}

std::vector<ResourceOutcome> ProcessBoundary::destroy(const DestroyOptions& options, Usage& usage) {
  std::vector<ResourceOutcome> rows;
  if (cgroup_) {
    auto read = [&usage](const Cgroup& cg) { usage = read_usage(cg); };
    rows.push_back(destroy_cgroup(*cgroup_, options, read).row);
    prune_parents(cgroup_->path().substr(0, cgroup_->path().rfind('/')), parents_);
  } else if (main_.exists()) {
    rows.push_back(destroy_process_group(main_.pid(), options));
  }
  return rows;
}

std::optional<HangReport> ProcessBoundary::hang_report() {
  if (cgroup_) return take_hang_report(*cgroup_);
  if (!main_.exists()) return std::nullopt;
  auto members = [pgid = main_.pid()] {
    std::vector<pid_t> pids;
    for (const auto& p : group_members(pgid)) pids.push_back(p.pid);
    return pids;
  };
  return take_hang_report(members,
                          "not frozen: no cgroup2 on this host (the task's process group, as it ran)");
}

std::optional<Boundary::LineageRoot> ProcessBoundary::lineage_root(std::string&) const {
  return LineageRoot{main_.pid(), cgroup_ ? cgroup_relative(cgroup_->path()) : ""};
}

// After destroy the main process is dead (or listed as a survivor): wait briefly, then reap.
std::optional<ExitStatus> ProcessBoundary::reap_main(std::optional<ExitStatus> known) {
  return main_.reap(known, std::chrono::seconds(1));
}

}  // namespace cgspawn
