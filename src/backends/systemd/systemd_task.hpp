// SystemdTask: one task in its transient scope: the main process (cgspawn's child, held by its
// pidfd), the scope's anchor, and the manager connection the scope is destroyed through.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "backends/systemd/held_child.hpp"
#include "backends/systemd/manager.hpp"
#include "backends/systemd/unit_destroy.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"
#include "launch/launcher.hpp"
#include "util/deadline.hpp"

namespace cgspawn::systemd {

struct TaskRecordRef {
  std::shared_ptr<const Ledger> ledger;  // null: no ledger
  TaskRecord record;
  bool keep = false;
};

// record_finished() for the task's record, where it has one.
void record_task_result(TaskRecordRef& ref, const Result& result);

class SystemdTask final : public Task {
 public:
  SystemdTask(TaskSpec spec, std::unique_ptr<Manager> manager, UnitRef unit, Launched main,
              std::unique_ptr<Anchor> anchor, TaskRecordRef record);
  ~SystemdTask() override;

  const std::string& id() const override { return spec_.id; }
  const std::string& backend() const override { return backend_; }
  int poll_fd() const override { return main_.pidfd.get(); }
  std::optional<ExitStatus> try_wait() override;
  Result wait() override;
  Result finish(const DestroyOptions& options, ExitReason reason_if_running) override;

 private:
  std::optional<ExitStatus> peek_exit(bool block);
  void reap_main(ExitReason reason_if_running, bool was_running);

  TaskSpec spec_;
  std::string backend_ = "systemd";
  std::unique_ptr<Manager> manager_;
  UnitRef unit_;
  Launched main_;
  std::unique_ptr<Anchor> anchor_;
  TaskRecordRef record_;
  std::optional<ExitStatus> exit_;
  std::optional<Clock::time_point> ended_;
  bool finished_ = false;
};

}  // namespace cgspawn::systemd
