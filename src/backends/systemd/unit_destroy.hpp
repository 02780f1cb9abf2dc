// SPDX-License-Identifier: MIT
// Destroying a task's unit and verifying it is gone: SIGTERM to all of the unit, the grace,
// SIGKILL to all (cgroup.kill on its cgroup), wait until empty, stop, reset if failed, then
// verify that systemd unloaded the unit and removed its cgroup.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "cgroup/cgroup.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"
#include "dbus/manager.hpp"

namespace cgspawn::systemd {

using dbus::Manager;

struct UnitRef {
  ResourceKind kind;   // scope or service
  std::string name;    // cgspawn-<id>.scope
  std::string cgroup;  // its cgroup, absolute (/sys/fs/cgroup/...)
};

struct UnitDestroyHooks {
  pid_t spare_pid = 0;  // cgspawn's own anchor: not listed as killed
  // Runs while the cgroup still exists, before anything is signalled (usage is read here: the
  // anchor keeps the cgroup, which systemd removes as soon as it is empty).
  std::function<void(const Cgroup&)> before_kill;
  // Runs once the unit's cgroup is empty, before the unit is stopped (and so unloaded): a
  // service's ExecMain* are read here.
  std::function<void()> after_empty;
};

// The hang report of the unit's processes (its cgroup frozen for it), but `spare`. nullopt
// when its cgroup cannot be opened.
std::optional<HangReport> unit_hang_report(const UnitRef& unit, pid_t spare = 0);

// Never throws: failures are the row's outcome and detail (D-Bus errors with their names).
ResourceOutcome destroy_unit(Manager& manager, const UnitRef& unit, const DestroyOptions& options,
                             const UnitDestroyHooks& hooks = {});

}  // namespace cgspawn::systemd
