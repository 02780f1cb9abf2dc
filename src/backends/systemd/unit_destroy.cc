// SPDX-License-Identifier: MIT
#include "backends/systemd/unit_destroy.hpp"

#include <unistd.h>

#include <csignal>
#include <thread>

#include "backends/backend_rows.hpp"
#include "cgroup/destroy.hpp"
#include "cgroup/events.hpp"
#include "dbus/scope_verify.hpp"
#include "hang/hang_report.hpp"
#include "report/rows.hpp"
#include "util/deadline.hpp"
#include "util/logger.hpp"
#include "util/proc_info.hpp"

namespace cgspawn::systemd {
namespace {

constexpr std::size_t kMaxListed = 100;

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

void append(std::string& detail, const std::string& more) {
  if (!more.empty()) detail += (detail.empty() ? "" : "; ") + more;
}

std::optional<Cgroup> open_cgroup(const std::string& path) {
  if (path.empty() || !exists(path)) return std::nullopt;
  try {
    return Cgroup::open(path);
  } catch (const Error&) {
    return std::nullopt;  // removed between the check and the open
  }
}

// The processes SIGTERM is about to reach, for the row's `killed` list.
void note_processes(const Cgroup& cgroup, pid_t spare, ResourceOutcome& row) {
  for (pid_t pid : cgroup.procs_recursive()) {
    if (pid == spare) continue;
    ++row.killed_total;
    if (row.killed.size() < kMaxListed) row.killed.push_back(describe_process(pid));
  }
  for (auto& p : row.killed) p.state.clear();
}

// KillUnit(all, SIGTERM) + SIGCONT, then the grace (ended early when the cgroup empties or the
// interrupt fd fires). The anchor dies here too; usage was read before.
void terminate(Manager& manager, const UnitRef& unit, const Cgroup& cgroup, const DestroyOptions& options,
               ResourceOutcome& row) {
  try {
    manager.kill_unit(unit.name, "all", SIGTERM);
    manager.kill_unit(unit.name, "all", SIGCONT);
  } catch (const dbus::BusError& e) {
    if (e.name() != dbus::kNoSuchUnit) append(row.detail, "KillUnit SIGTERM: " + std::string(e.what()));
  }
  wait_until_empty(cgroup, Clock::now() + options.grace, options.interrupt_fd);
}

// SIGKILL to all through the cgroup (cgroup.kill), and the wait for empty: destroy_cgroup's
// own path, with the grace already spent and the cgroup left for systemd to remove.
bool kill_rest(const Cgroup& cgroup, const DestroyOptions& options, pid_t spare, ResourceOutcome& row) {
  DestroyOptions now = options;
  now.grace = Duration::zero();
  ResourceOutcome killed = destroy_cgroup(cgroup, now, {}, false).row;
  for (const auto& p : killed.killed) {
    bool seen = false;
    for (const auto& q : row.killed) seen = seen || q.pid == p.pid;
    if (seen || p.pid == spare) continue;
    ++row.killed_total;
    if (row.killed.size() < kMaxListed) row.killed.push_back(p);
  }
  append(row.detail, killed.detail);
  if (killed.outcome != Outcome::failed) return true;
  row.survivors = killed.survivors;
  return false;
}

// StopUnit and its job; a unit already unloaded (it emptied and was collected) is fine.
void stop(Manager& manager, const UnitRef& unit, Clock::time_point deadline, ResourceOutcome& row) {
  try {
    std::string result = manager.wait_job(manager.stop_unit(unit.name), deadline);
    if (result != "done") append(row.detail, "stop job: " + result);
  } catch (const dbus::BusError& e) {
    if (e.name() != dbus::kNoSuchUnit) append(row.detail, "StopUnit: " + std::string(e.what()));
  } catch (const Error& e) {
    append(row.detail, e.what());
  }
}

// Reset a failed unit so CollectMode unloads it (a failed unit would otherwise block the name).
void reset_if_failed(Manager& manager, const UnitRef& unit, ResourceOutcome& row) {
  try {
    auto path = manager.get_unit(unit.name);
    if (path && manager.unit_string(*path, "ActiveState") == "failed") manager.reset_failed(unit.name);
  } catch (const dbus::BusError& e) {
    if (e.name() != dbus::kNoSuchUnit) append(row.detail, "ResetFailedUnit: " + std::string(e.what()));
  }
}

}  // namespace

std::optional<HangReport> unit_hang_report(const UnitRef& unit, pid_t spare) {
  try {
    return take_hang_report(Cgroup::open(unit.cgroup), spare);
  } catch (const std::exception& e) {
    logger().debug("{}: no hang report: {}", unit.name, e.what());
    return std::nullopt;
  }
}

ResourceOutcome destroy_unit(Manager& manager, const UnitRef& unit, const DestroyOptions& options,
                             const UnitDestroyHooks& hooks) {
  auto start = Clock::now();
  ResourceOutcome row = make_row({unit.kind, unit.name}, Outcome::failed, "");
  std::optional<std::string> loaded;
  try {
    loaded = manager.get_unit(unit.name);
  } catch (const Error& e) {
    append(row.detail, "GetUnit: " + std::string(e.what()));
  }
  std::optional<Cgroup> cgroup = open_cgroup(unit.cgroup);
  if (!loaded && !cgroup && row.detail.empty()) {
    row.outcome = Outcome::already_gone;
    row.detail = "the unit was unloaded before cgspawn acted";
    return row;
  }
  bool empty = true;
  if (cgroup) {
    if (hooks.before_kill) hooks.before_kill(*cgroup);
    note_processes(*cgroup, hooks.spare_pid, row);
    // Only the anchor left: nothing of the task's to give a grace to.
    if (row.killed_total > 0 && options.grace.count() > 0) terminate(manager, unit, *cgroup, options, row);
    empty = kill_rest(*cgroup, options, hooks.spare_pid, row);
  }
  auto deadline = Clock::now() + options.verify_timeout;
  logger().debug("{}: empty after {:.3f}s", unit.name, seconds_between(start, Clock::now()));
  if (empty) {
    if (hooks.after_empty) hooks.after_empty();
    stop(manager, unit, deadline, row);
    reset_if_failed(manager, unit, row);
    logger().debug("{}: stopped after {:.3f}s", unit.name, seconds_between(start, Clock::now()));
    std::string left = dbus::wait_unit_gone(manager, unit.name, unit.cgroup, deadline);
    if (left.empty()) row.outcome = Outcome::destroyed;
    append(row.detail, left);
  }
  row.seconds = seconds_between(start, Clock::now());
  return row;
}

}  // namespace cgspawn::systemd

namespace cgspawn {

ResourceOutcome destroy_recorded_unit(const ResourceRecord& res, const DestroyOptions& options) {
  using namespace systemd;
  UnitRef unit{res.resource.kind, res.resource.id, res.attribute("cgroup")};
  bool user = res.attribute("bus") == "user";
  uid_t uid = static_cast<uid_t>(std::strtoul(res.attribute("uid").c_str(), nullptr, 10));
  try {
    auto manager = Manager::connect(dbus::recorded_bus(user, uid));
    ResourceOutcome row = destroy_unit(*manager, unit, options);
    if (row.outcome == Outcome::already_gone && res.state == ResourceState::intended)
      row.detail = "never created";
    return row;
  } catch (const Error& e) {
    return make_row(res.resource, Outcome::failed, e.what());
  }
}

}  // namespace cgspawn
