// PodmanTask: one task of the podman backend: a container (started detached), the
// `podman logs -f` process that carries its output to the task's stdout/stderr, and a
// `podman wait` process whose end says the container has ended and whose output is its exit
// code. Both run alongside the container, so their cost overlaps its run instead of adding to it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/podman/container_ref.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"
#include "launch/launcher.hpp"
#include "util/deadline.hpp"

namespace cgspawn {

class PodmanTask final : public Task {
 public:
  // `prune_dirs`: parent cgroups to remove after the task if they are then empty.
  PodmanTask(TaskSpec spec, ContainerRef ref, Launched logs, Launched waiter, UniqueFd waiter_out,
             Clock::time_point started, std::vector<std::string> prune_dirs);
  ~PodmanTask() override;

  const std::string& id() const override { return spec_.id; }
  const std::string& backend() const override { return backend_; }
  int poll_fd() const override { return waiter_.pidfd.get(); }
  std::optional<ExitStatus> try_wait() override;
  Result wait() override;
  Result finish(const DestroyOptions& options, ExitReason reason_if_running) override;

  // As ProcessTask: keeps the ledger record current; with `keep` it stays with the Result.
  void attach_record(std::shared_ptr<const Ledger> ledger, TaskRecord record, bool keep);

 private:
  bool waiter_ended() const;
  ExitStatus container_exit();
  void reap(Launched& child);
  void record_result(const Result& result);

  TaskSpec spec_;
  std::string backend_ = "podman";
  ContainerRef ref_;
  Launched logs_;
  Launched waiter_;
  UniqueFd waiter_out_;
  Clock::time_point started_;
  std::vector<std::string> prune_dirs_;
  std::optional<Clock::time_point> ended_;
  std::optional<ExitStatus> exit_;
  bool finished_ = false;
  std::shared_ptr<const Ledger> ledger_;
  TaskRecord record_;
  bool keep_record_ = false;
};

}  // namespace cgspawn
