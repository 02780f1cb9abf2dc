// SPDX-License-Identifier: MIT
// The podman backend's boundary: one container, under a cgroup2 node of cgspawn's own. Its
// output reaches the task's stdout/stderr through the log file conmon writes, followed by a
// thread of ours (container_log.hpp); a kept container (--keep-container) keeps podman's own
// log, which `podman logs -f` follows. The container's end is what its conmon says (its exit
// file, looked for by the log's thread, or its exit: conmon_end.hpp), which the task's
// poll_fd() waits for, so nothing polls while it runs; where no exit code was seen, `podman
// inspect` gives it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/podman/conmon_end.hpp"
#include "backends/podman/container_log.hpp"
#include "backends/podman/container_ref.hpp"
#include "cgroup/parent.hpp"
#include "launch/launcher.hpp"
#include "task/boundary.hpp"

namespace cgspawn {

class PodmanBoundary final : public Boundary {
 public:
  // The task cgroup (ref.task_cgroup) exists. `parents`: which of its parent cgroups go after
  // the task if they are then empty.
  PodmanBoundary(ContainerRef ref, ParentPruning parents);

  ContainerRef& ref() { return ref_; }
  // From `podman run` on, a failure may have left a container of ours to destroy; unless
  // podman refused the name (someone else's container: never touched).
  void container_may_exist(bool yes) { container_may_exist_ = yes; }
  // The container runs: follow its output (`log`, the file podman was told to write it to; none
  // for a kept container) and its end. From here on `keep` (--keep-container) holds: a
  // container that failed to start is never kept.
  void follow(std::optional<ContainerLogFile> log, int stdout_fd, int stderr_fd, bool keep);

  int poll_fd() const override;
  std::optional<MainExit> peek_exit() override;
  std::optional<LineageRoot> lineage_root(std::string& why) const override {
    why.clear();  // not needed: the container's PID namespace bounds its processes
    return std::nullopt;
  }
  std::vector<ResourceOutcome> destroy(const DestroyOptions& options, Usage& usage) override;
  std::optional<HangReport> hang_report() override;  // of the container's cgroup

 private:
  bool container_ended() const;
  ExitStatus container_exit() const;

  ContainerRef ref_;
  ParentPruning parents_;
  bool container_may_exist_ = false;
  ContainerLog log_;                // the container's output, followed here
  Launched logs_;                   // or `podman logs -f`, for a kept container
  std::shared_ptr<ConmonEnd> end_;  // from follow() on; shared with the log's thread
  std::optional<ExitStatus> exit_;
};

}  // namespace cgspawn
