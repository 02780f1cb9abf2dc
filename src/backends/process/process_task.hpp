// ProcessTask: one task of the process backend: a main process (held by its pidfd) and the
// cgroup it was born in.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/cgroup.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"
#include "launch/launcher.hpp"
#include "util/deadline.hpp"

namespace cgspawn {

class ProcessTask final : public Task {
 public:
  // `cgroup` empty: no cgroup2 on this host, the task is its own process group.
  // `prune_dirs`: parent cgroups to remove after the task if they are then empty.
  ProcessTask(TaskSpec spec, std::optional<Cgroup> cgroup, Launched launched,
              std::vector<std::string> prune_dirs);
  ~ProcessTask() override;

  const std::string& id() const override { return spec_.id; }
  const std::string& backend() const override { return backend_; }
  int poll_fd() const override { return main_.pidfd.get(); }
  std::optional<ExitStatus> try_wait() override;
  Result wait() override;
  Result finish(const DestroyOptions& options, ExitReason reason_if_running) override;

  // Keeps the ledger's record of this task up to date; with `keep`, the record stays after
  // finish() with the Result (for `cgspawn start`), else it goes once cleanup is complete.
  void attach_record(std::shared_ptr<const Ledger> ledger, TaskRecord record, bool keep);

 private:
  std::optional<ExitStatus> peek_exit(bool block);
  ResourceOutcome destroy_boundary(const DestroyOptions& options, Usage& usage);
  void reap_main(ExitReason reason_if_running, bool was_running);
  void record_result(const Result& result);

  TaskSpec spec_;
  std::string backend_ = "process";
  std::optional<Cgroup> cgroup_;
  Launched main_;
  std::vector<std::string> prune_dirs_;
  Clock::time_point started_;
  std::optional<Clock::time_point> ended_;
  std::optional<ExitStatus> exit_;
  bool finished_ = false;
  std::shared_ptr<const Ledger> ledger_;
  TaskRecord record_;
  bool keep_record_ = false;
};

}  // namespace cgspawn
