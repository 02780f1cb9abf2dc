// SPDX-License-Identifier: MIT
// SpawnedTask: the one implementation of Task, for every backend. It owns the path every task
// walks (wait with its timeout, destroy on drop, finish into a Result, the ledger record);
// the backend's Boundary knows only how to watch, kill, verify and reap its own resources.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cgspawn/spawner.hpp"
#include "lineage/lineage.hpp"
#include "task/boundary.hpp"
#include "task/task_record.hpp"
#include "task/task_storage.hpp"
#include "util/deadline.hpp"

namespace cgspawn {

class SpawnedTask final : public Task {
 public:
  // `started`: when the main program was started (its wall time and timeout count from here).
  SpawnedTask(TaskSpec spec, std::string backend, std::unique_ptr<Boundary> boundary,
              Clock::time_point started, TaskRecordKeeper record, std::vector<StorageRow> storage);
  ~SpawnedTask() override;  // a task never finished is destroyed now, without grace

  const std::string& id() const override { return spec_.id; }
  const std::string& backend() const override { return backend_; }
  int poll_fd() const override { return boundary_->poll_fd(); }
  std::optional<ExitStatus> try_wait() override;
  Result wait() override;
  // A second call returns the first Result: destroy never throws.
  Result finish(const DestroyOptions& options, ExitReason reason_if_running) override;

 private:
  void follow_lineage();
  // After the boundary's destroy: descendants that left it, SysV IPC, the leftovers count.
  void destroy_leftovers(CleanupReport& cleanup, const DestroyOptions& options);
  // Files in the host's shared places that may be the task's (storage/suspected_files.hpp).
  void note_suspected_files(CleanupReport& cleanup) const;

  TaskSpec spec_;
  std::string backend_;
  std::unique_ptr<Boundary> boundary_;
  Clock::time_point started_;
  TaskRecordKeeper record_;
  std::vector<StorageRow> storage_;
  std::optional<MainExit> exit_;
  std::optional<Result> result_;
  double started_unix_ = 0;
  std::optional<std::uint64_t> host_oom_at_start_;     // the host's OOM kills when the task started
  std::map<std::string, Stall> host_stalls_at_start_;  // and its pressure stall totals
  std::string task_cgroup_;                            // as /proc/PID/cgroup names it
  std::string lineage_note_;                           // why the lineage is not followed
  std::unique_ptr<LineageWatch> lineage_;              // after record_: stops (its callback) first
};

}  // namespace cgspawn
