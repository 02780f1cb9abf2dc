// SPDX-License-Identifier: MIT
#include "task/spawned_task.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "cgroup/pressure.hpp"
#include "lineage/escaped.hpp"
#include "lineage/sysv_ipc.hpp"
#include "storage/suspected_files.hpp"
#include "task/exit_cause.hpp"
#include "util/crash_point.hpp"
#include "util/logger.hpp"

namespace cgspawn {
namespace {

Result identity(const TaskSpec& spec, const std::string& backend) {
  Result result;
  result.id = spec.id;
  result.backend = backend;
  result.argv = spec.argv;
  result.labels = spec.labels;
  return result;
}

}  // namespace

SpawnedTask::SpawnedTask(TaskSpec spec, std::string backend, std::unique_ptr<Boundary> boundary,
                         Clock::time_point started, TaskRecordKeeper record, std::vector<StorageRow> storage)
    : spec_(std::move(spec)),
      backend_(std::move(backend)),
      boundary_(std::move(boundary)),
      started_(started),
      record_(std::move(record)),
      storage_(std::move(storage)),
      // To the microsecond, not std::time's second: files are told from the host's by it.
      started_unix_(
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
          seconds_between(started, Clock::now())),
      host_oom_at_start_(host_oom_kills()),
      host_stalls_at_start_(host_stalls()) {
  follow_lineage();
}

void SpawnedTask::follow_lineage() {
  std::string why;
  std::optional<Boundary::LineageRoot> root = boundary_->lineage_root(why);
  if (!root) {
    lineage_note_ = why;
    return;
  }
  if (!spec_.track_lineage) {
    lineage_note_ = "processes that left the task's cgroup were not looked for (lineage tracking off)";
    return;
  }
  Lineage* lineage = Lineage::get(&why);
  if (!lineage) {
    lineage_note_ = "processes that left the task's cgroup were not looked for: " + why;
    return;
  }
  task_cgroup_ = root->cgroup;
  const Ledger* ledger = record_.ledger();
  lineage_ = lineage->watch(root->main, root->cgroup, [ledger, id = spec_.id](const Escape& escape) {
    logger().debug("task {}: pid {} ({}) left for {}", id, escape.pid, escape.comm, escape.cgroup);
    if (!ledger) return;
    try {  // recorded at once: a `reap` after a crash of this process finds it
      ledger->add_found(id, escape_record(escape));
    } catch (const std::exception& e) {
      logger().warn("task {}: could not record escaped pid {}: {}", id, escape.pid, e.what());
    }
  });
}

void SpawnedTask::destroy_leftovers(CleanupReport& cleanup, const DestroyOptions& options) {
  bool remove = spec_.on_leftovers != LeftoversPolicy::report;
  cleanup.fail_on_leftovers = spec_.on_leftovers == LeftoversPolicy::fail;
  for (const auto& row : cleanup.resources) {
    std::size_t main = 0;
    for (const auto& p : row.killed) main += p.pid == record_.record().main_pid;
    cleanup.leftovers += row.killed_total - std::min(main, row.killed_total);
  }
  if (!lineage_note_.empty()) cleanup.notes.push_back(lineage_note_);
  if (!lineage_) return;
  LineageState lineage = lineage_->state();
  auto escaped =
      destroy_escaped(*lineage_, lineage.live, task_cgroup_, remove, Clock::now() + options.verify_timeout);
  // Escaped processes may have forked before they were killed: the tree is asked again then.
  if (!escaped.empty()) lineage = lineage_->state();
  for (auto& row : escaped) {
    ++cleanup.leftovers;
    cleanup.resources.push_back(std::move(row));
  }
  IpcCleanup ipc = destroy_sysv_ipc(lineage.ever, started_unix_, ::geteuid(), remove);
  cleanup.leftovers += ipc.rows.size();
  for (auto& row : ipc.rows) cleanup.resources.push_back(std::move(row));
  for (auto& note : ipc.suspected) cleanup.notes.push_back("suspected: " + note);
  if (!lineage.incomplete.empty()) cleanup.notes.push_back(lineage.incomplete);
}

void SpawnedTask::note_suspected_files(CleanupReport& cleanup) const {
  if (!boundary_->shares_host_tmp() || spec_.private_tmp) return;
  constexpr std::size_t kCap = 20;
  SuspectedFiles files = suspected_files(started_unix_, ::geteuid(), kCap);
  for (const auto& path : files.paths)
    cleanup.notes.push_back("suspected: " + path + " (made during the task's life by its user; not removed)");
  if (files.total > files.paths.size())
    cleanup.notes.push_back("suspected: " + std::to_string(files.total - files.paths.size()) +
                            " more such files");
}

SpawnedTask::~SpawnedTask() {
  if (result_) return;
  try {
    DestroyOptions now;
    now.grace = Duration::zero();
    finish(now, ExitReason::destroyed);
  } catch (const std::exception& e) {
    logger().error("task {}: destroy on drop failed: {}", spec_.id, e.what());
  }
}

std::optional<ExitStatus> SpawnedTask::try_wait() {
  if (!exit_) exit_ = boundary_->peek_exit();
  if (!exit_) return std::nullopt;
  return exit_->status;
}

Result SpawnedTask::wait() {
  auto deadline = spec_.timeout ? started_ + *spec_.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(poll_fd(), deadline);
  DestroyOptions options;
  options.grace = spec_.grace;
  return finish(options, r == WaitResult::ready ? ExitReason::destroyed : ExitReason::timed_out);
}

Result SpawnedTask::finish(const DestroyOptions& options, ExitReason reason_if_running) {
  if (result_) return *result_;
  bool was_running = !try_wait().has_value();
  // The task's life ends here for the host's pressure: destroy's own time is not the task's.
  std::map<std::string, Stall> host_growth = stall_growth(host_stalls_at_start_, host_stalls());
  double life = seconds_between(started_, Clock::now());
  Result result = identity(spec_, backend_);
  result.main_pid = record_.record().main_pid;
  crash_point("finish-before-destroy");
  if (was_running && spec_.hang_report) result.hang = boundary_->hang_report();
  result.cleanup.resources = boundary_->destroy(options, result.usage);
  destroy_leftovers(result.cleanup, options);
  note_suspected_files(result.cleanup);
  // Last: nothing of the task (escaped processes included) is left to write into it.
  destroy_storage(storage_, record_.record().resources, result.cleanup.resources);
  crash_point("finish-after-destroy");
  std::optional<ExitStatus> status =
      boundary_->reap_main(exit_ ? std::optional(exit_->status) : std::nullopt);
  Clock::time_point ended = exit_ ? exit_->at : Clock::now();
  result.exit = status.value_or(ExitStatus{});
  if (was_running) result.exit.reason = reason_if_running;
  // The host's count is read again only where it can decide the cause (/proc/vmstat costs
  // 26 us): a main process that died of a signal nobody from cgspawn sent, with no OOM kill
  // of its own cgroup to explain it.
  std::optional<std::uint64_t> host_grew;
  if (!was_running && result.exit.signal && result.usage.oom_kills.value_or(0) == 0 && host_oom_at_start_)
    if (std::optional<std::uint64_t> host_now = host_oom_kills()) host_grew = *host_now - *host_oom_at_start_;
  result.exit.cause =
      exit_cause(result.exit, {was_running, options.owner_gone, result.usage.oom_kills, host_grew});
  result.usage.wall_seconds = seconds_between(started_, ended);
  result.usage.host_pressure = host_growth;
  result.usage.starved = starved(host_growth, life);
  for (const auto& row : result.cleanup.resources)
    logger().debug("task {}: {} {} in {:.3f}s", spec_.id, row.resource.id, to_string(row.outcome),
                   row.seconds);
  record_.finished(result);
  result_ = result;
  return result;
}

}  // namespace cgspawn
