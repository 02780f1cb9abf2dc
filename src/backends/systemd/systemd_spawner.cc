// SPDX-License-Identifier: MIT
// The systemd backend's Spawner: each task in a transient scope cgspawn-<id>.scope, started
// the way systemd-run --scope and Slurm start one (see spawn_scope() below), or in a transient
// service that systemd itself starts (--unit-type service).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include "backends/backend_rows.hpp"
#include "backends/spec_checks.hpp"
#include "backends/systemd/scope_boundary.hpp"
#include "backends/systemd/service_boundary.hpp"
#include "backends/systemd/unit_destroy.hpp"
#include "cgroup/hierarchy.hpp"
#include "cgroup/usage.hpp"
#include "cgspawn/error.hpp"
#include "dbus/bus.hpp"
#include "dbus/manager.hpp"
#include "dbus/scope_verify.hpp"
#include "dbus/unit_properties.hpp"
#include "hang/hang_report.hpp"
#include "launch/held_child.hpp"
#include "launch/isolation.hpp"
#include "launch/launcher.hpp"
#include "lineage/lineage.hpp"
#include "storage/scratch.hpp"
#include "task/spawn_transaction.hpp"
#include "util/crash_point.hpp"
#include "util/logger.hpp"

namespace cgspawn {
namespace {

using namespace systemd;
using dbus::BusError;
using dbus::UnitProperties;

constexpr unsigned kAnchors = 1;  // cgspawn's own process in every scope (launch/held_child.hpp)
constexpr auto kJobTimeout = std::chrono::seconds(120);  // a start job in a slow TCG guest

bool unknown_pidfds(const BusError& e) {
  return std::string(e.what()).find("PIDFDs") != std::string::npos;
}

// StartTransientUnit in mode "fail", with the properties `properties()` makes (again after
// `retry_with` adjusted them for an error it knows, and returned true). An existing unit of
// the name (a failed one, from an earlier task of this id) is reset once and the start
// retried. Returns the start job.
std::string start_unit(Manager& manager, const std::string& name,
                       const std::function<UnitProperties()>& properties,
                       const std::function<bool(const BusError&)>& retry_with) {
  bool reset_tried = false;
  for (;;) {
    try {
      return manager.start_transient(name, properties());
    } catch (const BusError& e) {
      if (retry_with(e)) continue;
      if (e.name() == dbus::kUnitExists && !reset_tried) {
        reset_tried = true;
        try {
          manager.reset_failed(name);
        } catch (const BusError& reset) {
          logger().debug("{}: ResetFailedUnit: {}", name, reset.what());
        }
        continue;
      }
      throw Error(e.name() == dbus::kUnitExists ? ErrorKind::invalid_argument : ErrorKind::system,
                  "systemd refused to start " + name + ": " + e.what());
    }
  }
}

// A scope for held processes. PIDFDs (systemd >= 255) falls back to PIDs where the manager
// does not know it.
std::string start_scope(Manager& manager, const std::string& name, const TaskSpec& spec,
                        const std::string& ledger_dir, dbus::ScopeProcesses processes) {
  auto properties = [&] {
    UnitProperties p = dbus::task_unit_properties(spec, ledger_dir, kAnchors);
    dbus::add_scope_processes(p, processes);
    return p;
  };
  auto retry_with = [&](const BusError& e) {
    if (processes.handover != dbus::PidHandover::pidfds || !unknown_pidfds(e)) return false;
    logger().debug("{}: the manager does not know PIDFDs ({}): using PIDs", name, e.what());
    processes.handover = dbus::PidHandover::pids;
    return true;
  };
  return start_unit(manager, name, properties, retry_with);
}

// A service that runs the program itself (Type=exec: the start job fails if it cannot exec).
// It must stay loaded (failed) after its program failed, until cgspawn has read its ExecMain*
// and reset it: CollectMode "inactive" only, not "inactive-or-failed".
std::string start_service(Manager& manager, const std::string& name, const TaskSpec& spec,
                          const std::string& ledger_dir, const dbus::ServiceExec& exec) {
  auto properties = [&] {
    UnitProperties p = dbus::task_unit_properties(spec, ledger_dir, 0, "inactive");
    dbus::add_service_exec(p, exec);
    return p;
  };
  return start_unit(manager, name, properties, [](const BusError&) { return false; });
}

void await_start_job(Manager& manager, const std::string& name, const std::string& job,
                     const std::string& why) {
  std::string result = manager.wait_job(job, Clock::now() + kJobTimeout);
  logger().debug("{}: start job {}", name, result);
  if (result != "done")
    throw Error(ErrorKind::system, "the start job of " + name + " ended with \"" + result + "\"" + why);
}

std::string absolute_dir(const std::string& dir) {
  return std::filesystem::absolute(dir.empty() ? "." : dir).lexically_normal().string();
}

// The cgroup the manager puts units under: for the system manager the root, for a user
// manager user@UID.service (what was delegated to it).
std::string units_base(const dbus::BusTarget& bus) {
  std::string mount = discover_hierarchy().mount;
  return bus.user ? mount + "/user.slice/user-" + std::to_string(bus.uid) + ".slice/user@" +
                        std::to_string(bus.uid) + ".service"
                  : mount;
}

// A limit's controller must be in the cgroup the manager puts units under.
Capability limit_capability(const std::string& controller, const dbus::BusTarget& bus) {
  std::string base = units_base(bus);
  std::ifstream in(base + "/cgroup.controllers");
  for (std::string word; in >> word;)
    if (word == controller)
      return {true, "set as a unit property, read back from " + controller + ".* at spawn"};
  return {false, "the " + controller + " controller is not available in " + base +
                     (bus.user ? " (not delegated to the user manager)" : "")};
}

// systemd applies a service's limits before the exec: their controllers are checked before
// anything starts.
void refuse_unavailable_limits(const Limits& l, const dbus::BusTarget& bus) {
  for (auto [given, controller] :
       {std::pair{l.memory_max_bytes.has_value(), "memory"}, std::pair{l.pids_max.has_value(), "pids"},
        std::pair{l.cpu_max_percent.has_value(), "cpu"}}) {
    if (!given) continue;
    Capability c = limit_capability(controller, bus);
    if (!c.available)
      throw Error(ErrorKind::unsupported,
                  std::string("cannot enforce the ") + controller + " limit: " + c.reason);
  }
}

// The main process and cgroup of a started service (0 and "" when it has ended already).
struct ServiceState {
  pid_t main_pid = 0;
  std::string cgroup;
};

ServiceState service_state(Manager& manager, const std::string& name) {
  const char* iface = "org.freedesktop.systemd1.Service";
  try {
    auto path = manager.get_unit(name);
    if (!path) throw Error(ErrorKind::system, name + " is not loaded after its start job finished");
    ServiceState s;
    s.main_pid = static_cast<pid_t>(manager.property<std::uint32_t>(*path, iface, "MainPID"));
    std::string group = manager.property<std::string>(*path, iface, "ControlGroup");
    if (!group.empty()) s.cgroup = discover_hierarchy().mount + group;
    return s;
  } catch (const BusError& e) {
    throw dbus::in_context("read the state of " + name, e);
  }
}

class SystemdSpawner final : public Spawner {
 public:
  SystemdSpawner(const BackendOptions& options, dbus::BusTarget bus)
      : options_(options), bus_(std::move(bus)) {}

  Capabilities capabilities() const override { return systemd_backend_capabilities(options_); }
  std::unique_ptr<Task> spawn(const TaskSpec& spec) override;

 private:
  std::vector<ResourceRecord> intended(ResourceKind kind, const std::string& unit) const;
  std::unique_ptr<Task> spawn_scope(TaskSpec spec);
  std::unique_ptr<Task> spawn_service(TaskSpec spec);
  std::string ledger_dir() const { return options_.ledger ? options_.ledger->dir() : ""; }

  BackendOptions options_;
  dbus::BusTarget bus_;
};

std::vector<ResourceRecord> SystemdSpawner::intended(ResourceKind kind, const std::string& unit) const {
  ResourceRecord res{{kind, unit}, ResourceState::intended, {}};
  res.attributes["bus"] = bus_.user ? "user" : "system";
  res.attributes["uid"] = std::to_string(bus_.uid);
  return {res};
}

// The unit exists and has a cgroup: the record says so.
void record_unit(SpawnTransaction& txn, const UnitRef& unit) {
  auto& res = txn.record().resources[0];
  res.state = ResourceState::created;
  res.attributes["cgroup"] = unit.cgroup;
}

std::unique_ptr<Task> SystemdSpawner::spawn(const TaskSpec& input) {
  TaskSpec spec = prepared_spec(input);
  // A scope's namespaces are made by cgspawn's own child; a service's by the manager, which a
  // user manager can only do in a user namespace: refused alike without CAP_SYS_ADMIN.
  if (std::string why = isolation_unavailable({spec.private_tmp, spec.private_ipc}); !why.empty())
    throw Error(ErrorKind::unsupported, why);
  if (options_.unit_type == "service") return spawn_service(std::move(spec));
  return spawn_scope(std::move(spec));
}

// Fork a child that waits; match JobRemoved, StartTransientUnit (mode fail) with the child's
// pidfd or pid; require the job's result "done"; verify the scope is active and the child in
// its cgroup; read the limits back; only then let the child exec. Recorded in the ledger first.
std::unique_ptr<Task> SystemdSpawner::spawn_scope(TaskSpec spec) {
  LaunchRequest request = launch_request_for(spec, resolve_program(spec.argv[0], task_path(spec)));
  refuse_hidden_cwd(request.isolation, spec.cwd);
  std::string name = dbus::unit_name(spec.id, "scope");
  auto manager = Manager::connect(bus_);
  SpawnTransaction txn(recording_of(options_, false), spec, "systemd", intended(ResourceKind::scope, name));
  attach_local_scratch(txn, spec);
  auto anchor = std::make_unique<Anchor>();
  pid_t anchor_pid = anchor->pid();
  if (spec.track_lineage) Lineage::get();  // subscribed before the main process can fork
  HeldChild child(request);                // killed and reaped if the spawn unwinds before release()
  dbus::ScopeProcesses processes{
      {child.pid(), anchor->pid()}, {child.pidfd(), anchor->pidfd()}, dbus::PidHandover::pidfds};
  std::string job = start_scope(*manager, name, spec, ledger_dir(), processes);
  auto& boundary = txn.adopt(std::make_unique<ScopeBoundary>(
      std::move(manager), UnitRef{ResourceKind::scope, name, ""}, std::move(anchor)));
  await_start_job(boundary.manager(), name, job, "");
  boundary.unit().cgroup = dbus::verify_active(boundary.manager(), name);
  record_unit(txn, boundary.unit());
  txn.save();
  crash_point("spawn-after-cgroup");
  dbus::verify_members(boundary.unit().cgroup, {child.pid(), anchor_pid});
  dbus::verify_limits(boundary.unit().cgroup, spec.limits, kAnchors, bus_.user);
  boundary.launched(child.release());
  txn.record().main_pid = child.pid();
  logger().debug("task {}: pid {} in {} ({})", spec.id, child.pid(), name, boundary.unit().cgroup);
  return txn.commit(std::move(spec), boundary.started());
}

// --unit-type service: systemd itself starts and supervises the program. Recorded first; the
// start job must be "done" (Type=exec: the program was executed); then its MainPID is
// watched, and the limits read back from the cgroup while it exists.
std::unique_ptr<Task> SystemdSpawner::spawn_service(TaskSpec spec) {
  LaunchRequest request = launch_request_for(spec, resolve_program(spec.argv[0], task_path(spec)));
  refuse_unavailable_limits(spec.limits, bus_);
  refuse_hidden_cwd(request.isolation, absolute_dir(spec.cwd));  // systemd is given the caller's by path
  std::string name = dbus::unit_name(spec.id, "service");
  auto manager = Manager::connect(bus_);
  SpawnTransaction txn(recording_of(options_, false), spec, "systemd", intended(ResourceKind::service, name));
  attach_local_scratch(txn, spec);
  dbus::ServiceExec exec{request.program,
                         request.argv,
                         request.envp,
                         absolute_dir(spec.cwd),
                         {},
                         spec.private_tmp,
                         spec.private_ipc,
                         request.isolation.scratch};
  for (int i = 0; i < 3; ++i) exec.stdio[i] = request.stdio[i] >= 0 ? request.stdio[i] : i;
  auto begun = Clock::now();
  std::string job = start_service(*manager, name, spec, ledger_dir(), exec);
  auto& boundary = txn.adopt(
      std::make_unique<ServiceBoundary>(std::move(manager), UnitRef{ResourceKind::service, name, ""}));
  await_start_job(boundary.manager(), name, job,
                  ": systemd could not start " + request.program + " (its journal says why)");
  ServiceState state = service_state(boundary.manager(), name);
  boundary.unit().cgroup = state.cgroup;
  boundary.watch(state.main_pid);
  record_unit(txn, boundary.unit());
  txn.record().main_pid = state.main_pid;
  if (!state.cgroup.empty() && ::access(state.cgroup.c_str(), F_OK) == 0)
    dbus::verify_limits(state.cgroup, spec.limits, 0, bus_.user);
  logger().debug("task {}: main pid {} in {} ({})", spec.id, state.main_pid, name, state.cgroup);
  return txn.commit(std::move(spec), begun);
}

dbus::BusLookup usable_bus(const BackendOptions& o) {
  if (o.unit_type != "scope" && o.unit_type != "service")
    throw Error(ErrorKind::invalid_argument,
                "unknown --unit-type \"" + o.unit_type + "\": use scope or service");
  dbus::BusLookup lookup = dbus::find_bus(o.user_manager);
  if (!lookup.unavailable.empty()) throw Error(ErrorKind::unsupported, lookup.unavailable);
  return lookup;
}

}  // namespace

std::unique_ptr<Spawner> make_systemd_backend(const BackendOptions& options) {
  return std::make_unique<SystemdSpawner>(options, usable_bus(options).target);
}

Capabilities systemd_backend_capabilities(const BackendOptions& o) {
  Capabilities caps;
  caps.backend = "systemd";
  dbus::BusTarget bus;
  try {
    bus = usable_bus(o).target;
    auto manager = Manager::connect(bus);
    std::string where = bus.user ? "the user manager of uid " + std::to_string(bus.uid) + " at " + bus.address
                                 : "the system manager";
    caps.usable = {true,
                   "systemd " + manager->version() + ": transient " + o.unit_type + " units of " + where};
  } catch (const Error& e) {
    caps.usable = {false, e.what()};
  }
  if (!caps.usable.available) {
    for (Capability* c : caps.guarantees()) *c = {false, caps.usable.reason};
    return caps;
  }
  caps.kill_all = {true, "KillUnit SIGTERM to all of the unit, then cgroup.kill on its cgroup"};
  caps.verify = {true,
                 "waits for the unit's cgroup to be empty, stops the unit, verifies it is unloaded "
                 "and its cgroup removed"};
  caps.lineage = o.unit_type == "service"
                     ? Capability{false,
                                  "a service's processes are the manager's children, not cgspawn's: "
                                  "they are not followed by descent (the unit's cgroup bounds them)"}
                     : lineage_capability();
  if (o.ledger)
    caps.survives_caller_crash = {true, "recorded in the ledger " + o.ledger->dir() +
                                            " before the unit exists: `cgspawn reap` finds and destroys it"};
  else
    caps.survives_caller_crash = {false, "no ledger given: the unit outlives its caller unrecorded"};
  caps.memory_max = limit_capability("memory", bus);
  caps.pids_max = limit_capability("pids", bus);
  caps.cpu_max = limit_capability("cpu", bus);
  caps.scratch = local_scratch_capability();
  caps.private_tmp = private_tmp_capability();
  caps.private_ipc = private_ipc_capability();
  caps.hang_report = hang_report_capability(true, "the unit's cgroup");
  caps.usage = usage_capability(units_base(bus));
  if (o.unit_type == "service" && caps.private_tmp.available)
    caps.private_tmp.reason = "the service's PrivateTmp=, with a tmpfs on /dev/shm (TemporaryFileSystem=)";
  if (o.unit_type == "service" && caps.private_ipc.available)
    caps.private_ipc.reason = "the service's PrivateIPC=";
  return caps;
}

}  // namespace cgspawn
