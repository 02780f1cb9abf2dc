// SPDX-License-Identifier: MIT
// Boundary: what one backend supplies to the one Task implementation (SpawnedTask): how to
// watch, kill, verify and reap its own kind of boundary. Everything else of a task's life
// (wait, timeout, destroy on drop, the ledger record, the Result) is the same for every
// backend and lives in SpawnedTask, as crun's cgroup managers are rows of one table.
#pragma once

#include <optional>
#include <vector>

#include "cgspawn/result.hpp"
#include "cgspawn/spawner.hpp"
#include "util/deadline.hpp"

namespace cgspawn {

// The main program's end, and when cgspawn learned of it.
struct MainExit {
  ExitStatus status;
  Clock::time_point at = Clock::now();
};

class Boundary {
 public:
  virtual ~Boundary() = default;

  // Readable once the main program has ended (a pidfd, an eventfd, ...).
  virtual int poll_fd() const = 0;

  // The main program's end once it has ended, nullopt while it runs. Never blocks.
  virtual std::optional<MainExit> peek_exit() = 0;

  // Destroys everything of the task now (SIGTERM, the grace, SIGKILL, verify) and returns one
  // row per Resource, in the order of the task's ledger record. Fills what it can read of
  // `usage` (wall time is the caller's). Never throws: a failure is a row. Also called, with
  // no grace, on a boundary whose spawn failed half-way: it then destroys what exists.
  virtual std::vector<ResourceOutcome> destroy(const DestroyOptions& options, Usage& usage) = 0;

  // After destroy: the main program's status (`known`: what peek_exit said before), reaped
  // where it is cgspawn's own child. nullopt: there is no status to give.
  virtual std::optional<ExitStatus> reap_main(std::optional<ExitStatus> known) { return known; }

  // Where the task's lineage starts: its main process, a child of this process, and the
  // cgroup it must stay in (as /proc/PID/cgroup names it; empty: none). nullopt, with the
  // reason in `why`: this backend's processes are not followed by descent.
  struct LineageRoot {
    pid_t main = 0;
    std::string cgroup;
  };
  virtual std::optional<LineageRoot> lineage_root(std::string& why) const = 0;

  // What the task's processes are doing, read just before a destroy while its main program
  // runs (hang/hang_report.hpp). nullopt: this backend has no way to look.
  virtual std::optional<HangReport> hang_report() { return std::nullopt; }

  // The task sees this host's /tmp, /var/tmp, /dev/shm and /dev/mqueue (unless --private-tmp):
  // files it may have left there are looked for, and named as suspected.
  virtual bool shares_host_tmp() const { return false; }
};

}  // namespace cgspawn
