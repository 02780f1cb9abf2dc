// SPDX-License-Identifier: MIT
// Operations on recorded tasks, whatever their backend: destroy by id, find orphans, reap.
// Each resource is destroyed by its kind's row in the registry.
#include "cgspawn/recorded_tasks.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "backends/registry.hpp"
#include "cgspawn/error.hpp"
#include "report/rows.hpp"
#include "util/crash_point.hpp"
#include "util/deadline.hpp"
#include "util/parallel.hpp"
#include "util/pidfd.hpp"

namespace cgspawn {
namespace {

// Destroys what the record names, ourselves (the owner is gone, or never finished the job).
CleanupReport destroy_recorded(const TaskRecord& record, const DestroyOptions& options) {
  CleanupReport report;
  for (const auto& res : record.resources) {
    if (ResourceDestroyer destroy = destroyer_for(res.resource.kind)) {
      report.resources.push_back(destroy(res, options));
      continue;
    }
    report.resources.push_back(make_row(
        res.resource, Outcome::not_guaranteed,
        "this build cannot destroy a \"" + std::string(to_string(res.resource.kind)) + "\" from its record"));
  }
  return report;
}

// The supervisor destroys its task on SIGTERM; the signal's value carries the grace in ms.
// Returns false if it did not exit in time (then the caller acts itself).
bool ask_supervisor(const OwnerRef& owner, const DestroyOptions& options) {
  UniqueFd pidfd = open_pidfd(owner.pid);
  if (!pidfd.valid() || !owner_alive(owner)) return true;  // already gone
  sigval value{};
  int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(options.grace).count());
  value.sival_int = options.owner_gone ? -1 - ms : ms;  // negative: its owner or bound process died
  if (::sigqueue(owner.pid, SIGTERM, value) != 0) return errno == ESRCH;
  auto deadline = Clock::now() + options.grace + options.verify_timeout + std::chrono::seconds(5);
  return wait_readable(pidfd.get(), deadline) == WaitResult::ready;
}

// The Result of a task whose owner died before it ended: destroyed for that, its exit status
// unknown (it was not this process's child).
Result owner_gone_result(const TaskRecord& record, const CleanupReport& cleanup) {
  Result r;
  r.id = record.id;
  r.backend = record.backend;
  r.argv = record.argv;
  r.labels = record.labels;
  r.main_pid = record.main_pid;
  r.exit.reason = ExitReason::destroyed;
  r.exit.cause = ExitCause::owner_gone;
  r.cleanup = cleanup;
  return r;
}

bool matches(const std::map<std::string, std::string>& task_labels,
             const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : labels) {
    auto it = task_labels.find(k);
    if (it == task_labels.end() || it->second != v) return false;
  }
  return true;
}

void settle(const Ledger& ledger, TaskRecord& record, TaskReport& report) {
  if (report.cleanup.complete()) {
    crash_point("destroy-before-remove");
    ledger.remove(record.id);
    return;
  }
  for (size_t i = 0; i < record.resources.size() && i < report.cleanup.resources.size(); ++i) {
    Outcome o = report.cleanup.resources[i].outcome;
    record.resources[i].state = (o == Outcome::destroyed || o == Outcome::already_gone)
                                    ? ResourceState::destroyed
                                    : ResourceState::failed;
  }
  ledger.update(record);
}

// `before`: the task as found before its lock was taken (its summary from the index, or its
// record), to name what a concurrent caller destroyed if the record is gone under the lock.
TaskReport destroy_found(const Ledger& ledger, const std::string& id,
                         const std::optional<TaskSummary>& before, const DestroyOptions& options) {
  TaskReport report{id, {}, std::nullopt, ""};
  Ledger::Lock lock = ledger.lock(id);  // two destroys never both act
  std::optional<TaskRecord> record = ledger.read(id);
  if (!record) {
    if (before) {
      for (const auto& res : before->resources)
        report.cleanup.resources.push_back(
            make_row(res.resource, Outcome::already_gone, "destroyed by a concurrent caller"));
      report.note = "destroyed by a concurrent caller";
    } else if (::access(ledger.task_dir(id).c_str(), F_OK) != 0) {
      // There was no record when we looked and the directory is gone now: a concurrent destroy
      // removed the task before we found it. "Never got as far as making a resource" (exit 0)
      // would be untrue: the other caller destroyed what it made. For us it is unknown.
      throw Error(ErrorKind::unknown_task, "no task \"" + id + "\" in " + ledger.dir());
    } else {
      ledger.remove(id);  // a crash between mkdir and the first record: nothing was made
      report.note = "no record: the task never got as far as making a resource";
    }
    return report;
  }
  bool supervised = record->owner.kind == OwnerKind::supervisor && owner_alive(record->owner);
  bool supervisor_finished = false;
  if (supervised && record->state != TaskState::exited) {
    supervisor_finished = ask_supervisor(record->owner, options);
    if (!supervisor_finished) report.note = "the supervisor did not finish in time: destroyed directly";
    record = ledger.read(id);
    if (!record) return report;
  }
  if (record->state == TaskState::exited && record->result) {
    report.result = record->result;
    report.cleanup = record->result->cleanup;
  }
  // What a supervisor that finished just now could not destroy (a survivor in D state) is not
  // tried again here: that would wait the verify timeout a second time for the same answer.
  // Its record says what is left, for `reap`.
  if (supervisor_finished && record->result && !report.cleanup.complete()) return report;
  if (!report.cleanup.complete() || !record->result) {
    crash_point("destroy-before-kill");
    report.cleanup = destroy_recorded(*record, options);
    if (!report.result && options.owner_gone) report.result = owner_gone_result(*record, report.cleanup);
  }
  settle(ledger, *record, report);
  return report;
}

constexpr std::size_t kDestroyWorkers = 16;

// Each task's destroy waits (for its supervisor, its cgroup to empty, a remote host): they run
// side by side, each under its own record lock, and are reported in the ledger's order. A task
// another caller destroyed meanwhile is left out; one whose record cannot be read is named in
// `report.corrupt` (its resources may remain), as a listing names it, and the others go on.
// The tasks come from the ledger's index: each record is read once, under its lock.
void destroy_each(const Ledger& ledger, const std::vector<TaskSummary>& tasks, const DestroyOptions& options,
                  ReapReport& report) {
  std::vector<std::optional<TaskReport>> slots(tasks.size());
  std::vector<std::string> unreadable(tasks.size());
  parallel_for(tasks.size(), kDestroyWorkers, [&](std::size_t i) {
    try {
      slots[i] = destroy_found(ledger, tasks[i].id, tasks[i], options);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::unknown_task) unreadable[i] = e.what();  // else destroyed meanwhile
    }
  });
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (slots[i]) report.tasks.push_back(std::move(*slots[i]));
    if (!unreadable[i].empty()) report.corrupt.push_back(std::move(unreadable[i]));
  }
}

}  // namespace

TaskReport destroy_task(const Ledger& ledger, const std::string& id, const DestroyOptions& options) {
  std::optional<TaskRecord> record = ledger.read(id);
  return destroy_found(ledger, id, record ? std::optional(summary_of(*record)) : std::nullopt, options);
}

std::vector<Orphan> find_orphans(const Ledger& ledger) {
  std::vector<Orphan> orphans;
  for (const auto& entry : backend_table()) {
    if (!entry.find_orphans) continue;
    for (auto& orphan : entry.find_orphans(ledger)) orphans.push_back(std::move(orphan));
  }
  return orphans;
}

ReapReport destroy_tasks(const Ledger& ledger, const std::map<std::string, std::string>& labels,
                         const DestroyOptions& options) {
  ReapReport report;
  // The labels from the index (one file), not from every record: each task's record is read
  // under its lock anyway, and a `destroy --label` of 1,000 parsed all of them once more.
  auto listing = ledger.summaries();
  report.corrupt = listing.corrupt;
  std::vector<TaskSummary> tasks;
  for (auto& summary : listing.tasks)
    if (matches(summary.labels, labels)) tasks.push_back(std::move(summary));
  destroy_each(ledger, tasks, options, report);
  return report;
}

bool ReapReport::complete() const {
  if (!corrupt.empty()) return false;  // what those records name may still be there
  for (const auto& t : tasks)
    if (!t.cleanup.complete()) return false;
  return orphans.complete();
}

ReapReport reap(const Ledger& ledger, const std::map<std::string, std::string>& labels, bool orphans,
                const DestroyOptions& options) {
  ReapReport report;
  auto listing = ledger.summaries();  // the index, not every record: each is read under its lock
  // A record reap cannot read may name resources that stay: say so (by file), do not hide it.
  report.corrupt = listing.corrupt;
  for (const auto& id : listing.abandoned) {
    try {
      Ledger::Lock lock = ledger.lock(id);
      if (ledger.read(id)) continue;  // recorded meanwhile: not abandoned after all
      ledger.remove(id);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::unknown_task) throw;  // removed by a concurrent reap
      continue;
    }
    report.tasks.push_back(
        {id, {}, std::nullopt, "removed an empty task directory: its start died before recording anything"});
  }
  DestroyOptions owner_gone = options;  // every task reap destroys lost its owner or bound process
  owner_gone.owner_gone = true;
  std::vector<TaskSummary> tasks;
  for (auto& task : listing.tasks) {
    bool bound_alive = !task.bound_to || owner_alive(*task.bound_to);
    if (matches(task.labels, labels) && !(owner_alive(task.owner) && bound_alive))
      tasks.push_back(std::move(task));
  }
  destroy_each(ledger, tasks, owner_gone, report);
  if (!labels.empty()) return report;  // orphans carry no labels
  for (const auto& orphan : find_orphans(ledger)) {
    const ResourceRecord& res = orphan.resource;
    ResourceDestroyer destroy = destroyer_for(res.resource.kind);
    if (orphans && orphan.ours && destroy) {
      report.orphans.resources.push_back(destroy(res, options));
      continue;
    }
    std::string what = res.resource.kind == ResourceKind::cgroup
                           ? "task cgroup"
                           : std::string(to_string(res.resource.kind)) + " unit";
    ResourceOutcome row;
    row.resource = res.resource;
    row.outcome = Outcome::not_guaranteed;
    row.detail = orphans ? "a cgspawn " + what + " with no record and no mark of this ledger: left alone"
                         : "a " + what + " with no record: destroy it with reap --orphans";
    report.orphans.resources.push_back(row);
  }
  return report;
}

}  // namespace cgspawn
