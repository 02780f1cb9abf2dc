// SPDX-License-Identifier: MIT
// Recorded tasks, by id or in bulk, from any process: destroy one, find what no record names,
// and reap what crashed owners left. These act on the resources a record names, through the
// backend that made each (see docs/library.md).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/result.hpp"
#include "cgspawn/spawner.hpp"
#include "cgspawn/wait.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

// A resource of cgspawn's naming that no record names: a task cgroup under a parent this
// ledger used, or a cgspawn-* unit of the caller's systemd manager.
struct Orphan {
  ResourceRecord resource;  // kind, id, and what destroying it needs
  bool ours;                // marked as this ledger's (xattr, or the unit's Description): safe to destroy
};

struct TaskReport {
  std::string id;
  CleanupReport cleanup;
  std::optional<Result> result;
  std::string note;  // e.g. "destroyed by a concurrent caller", "owner is alive"
};

// Destroys the task: asks a live supervisor to do it (and waits), or, when the owner is gone,
// destroys the recorded resources itself. Removes the record when the cleanup is complete.
// Never throws for a failure of the destroy itself (rows say it); throws unknown_task for an
// unknown id.
TaskReport destroy_task(const Ledger& ledger, const std::string& id, const DestroyOptions& options);

// Waits until a recorded task has ended (its record kept with the Result, as a supervised
// task's is) and returns the Result; nullopt when `deadline` passes first. Throws unknown_task
// when there is no such task or it is destroyed meanwhile, and system when its owner died
// before the task ended (`reap` cleans up then). Watches the record with inotify.
std::optional<Result> wait_for_task(const Ledger& ledger, const std::string& id, Clock::time_point deadline);

// Orphans: task cgroups named "cgspawn-*" under this ledger's parents, and cgspawn-* units of
// the caller's manager (the system's for root), with no record and no other ledger's mark.
std::vector<Orphan> find_orphans(const Ledger& ledger);

struct ReapReport {
  std::vector<TaskReport> tasks;
  CleanupReport orphans;
  std::vector<std::string> corrupt;  // "<file>: <why>": records reap could not read (not complete)
  bool complete() const;
};

// Destroys every task whose owner is gone (and, with `orphans`, every orphan cgroup marked as
// this ledger's). `labels`: only tasks carrying all of them.
ReapReport reap(const Ledger& ledger, const std::map<std::string, std::string>& labels, bool orphans,
                const DestroyOptions& options);

// Destroys every task carrying all of `labels` (all of them for none), whoever owns it, as
// destroy_task does each, in one call and one report (its `orphans` empty).
ReapReport destroy_tasks(const Ledger& ledger, const std::map<std::string, std::string>& labels,
                         const DestroyOptions& options);

}  // namespace cgspawn

#pragma GCC visibility pop
