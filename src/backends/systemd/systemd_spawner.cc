// The systemd backend's Spawner: each task in a transient scope cgspawn-<id>.scope, started
// the way systemd-run --scope and Slurm start one (see spawn() below).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>

#include "backends/systemd/bus.hpp"
#include "backends/spec_checks.hpp"
#include "backends/systemd/held_child.hpp"
#include "backends/systemd/manager.hpp"
#include "backends/systemd/scope_verify.hpp"
#include "backends/systemd/service_task.hpp"
#include "backends/systemd/systemd_backend.hpp"
#include "backends/systemd/systemd_task.hpp"
#include "backends/systemd/unit_destroy.hpp"
#include "backends/systemd/unit_properties.hpp"
#include "cgroup/hierarchy.hpp"
#include "cgspawn/error.hpp"
#include "cgspawn/parse.hpp"
#include "launch/launcher.hpp"
#include "util/crash_point.hpp"

namespace cgspawn {
namespace {

using namespace systemd;

constexpr unsigned kAnchors = 1;  // cgspawn's own process in every scope (see held_child.hpp)
constexpr auto kJobTimeout = std::chrono::seconds(120);  // a start job in a slow TCG guest

// A spawn that failed after its unit started (manager given): the unit is destroyed and
// verified before the error goes up; the record is removed.
void undo_start(Manager* manager, const UnitRef& unit, const std::string& id, const std::shared_ptr<const Ledger>& ledger,
                const std::optional<TaskRecord>& record) {
  if (manager) {
    DestroyOptions now;
    now.grace = Duration::zero();
    ResourceOutcome row = destroy_unit(*manager, unit, now);
    if (row.outcome == Outcome::failed) spdlog::error("task {}: {} left: {}", id, unit.name, row.detail);
  }
  if (record) ledger->remove(record->id);
}

LaunchRequest launch_request(const TaskSpec& spec) {
  LaunchRequest request;
  request.program = resolve_program(spec.argv[0], task_path(spec));  // a missing program makes nothing
  request.argv = spec.argv;
  request.envp = build_environment(spec);
  request.cwd = spec.cwd;
  request.stdio[0] = spec.stdin_fd;
  request.stdio[1] = spec.stdout_fd;
  request.stdio[2] = spec.stderr_fd;
  return request;
}

bool unknown_pidfds(const sdbus::Error& e) { return e.getMessage().find("PIDFDs") != std::string::npos; }

// StartTransientUnit in mode "fail", with the properties `properties()` makes (again after
// `retry_with` adjusted them for an error it knows, and returned true). An existing unit of
// the name (a failed one, from an earlier task of this id) is reset once and the start
// retried. Returns the start job.
sdbus::ObjectPath start_unit(Manager& manager, const std::string& name,
                             const std::function<std::vector<Property>()>& properties,
                             const std::function<bool(const sdbus::Error&)>& retry_with) {
  bool reset_tried = false;
  for (;;) {
    try {
      return manager.start_transient(name, properties());
    } catch (const sdbus::Error& e) {
      if (retry_with(e)) continue;
      if (e.getName() == kUnitExists && !reset_tried) {
        reset_tried = true;
        try {
          manager.reset_failed(name);
        } catch (const sdbus::Error& reset) {
          spdlog::debug("{}: ResetFailedUnit: {}", name, describe(reset));
        }
        continue;
      }
      throw Error(e.getName() == kUnitExists ? ErrorKind::invalid_argument : ErrorKind::system,
                  "systemd refused to start " + name + ": " + describe(e));
    }
  }
}

// A scope for held processes. PIDFDs (systemd >= 255) falls back to PIDs where the manager
// does not know it.
sdbus::ObjectPath start_scope(Manager& manager, const std::string& name, const TaskSpec& spec,
                              const std::string& ledger_dir, ScopeProcesses processes) {
  auto properties = [&] {
    std::vector<Property> p = common_properties(spec, ledger_dir, kAnchors);
    add_scope_processes(p, processes);
    return p;
  };
  auto retry_with = [&](const sdbus::Error& e) {
    if (processes.handover != PidHandover::pidfds || !unknown_pidfds(e)) return false;
    spdlog::debug("{}: the manager does not know PIDFDs ({}): using PIDs", name, describe(e));
    processes.handover = PidHandover::pids;
    return true;
  };
  return start_unit(manager, name, properties, retry_with);
}

// A service that runs the program itself (Type=exec: the start job fails if it cannot exec).
sdbus::ObjectPath start_service(Manager& manager, const std::string& name, const TaskSpec& spec,
                                const std::string& ledger_dir, const ServiceExec& exec) {
  auto properties = [&] {
    std::vector<Property> p = common_properties(spec, ledger_dir, 0);
    // A service whose program failed must stay loaded (failed) until cgspawn has read its
    // ExecMain* and reset it: "inactive" only, not "inactive-or-failed".
    for (auto& property : p)
      if (property.get<0>() == "CollectMode") property.get<1>() = sdbus::Variant(std::string("inactive"));
    add_service_exec(p, exec);
    return p;
  };
  return start_unit(manager, name, properties, [](const sdbus::Error&) { return false; });
}

class SystemdSpawner final : public Spawner {
 public:
  SystemdSpawner(const BackendOptions& options, BusTarget bus) : options_(options), bus_(std::move(bus)) {}

  Capabilities capabilities() const override { return systemd_backend_capabilities(options_); }
  std::unique_ptr<Task> spawn(const TaskSpec& spec) override;

 private:
  TaskRecord intent_record(const TaskSpec& spec, const std::string& unit, const std::string& kind) const;
  std::unique_ptr<Task> spawn_service(TaskSpec spec);

  BackendOptions options_;
  BusTarget bus_;
};

TaskRecord SystemdSpawner::intent_record(const TaskSpec& spec, const std::string& unit, const std::string& kind) const {
  TaskRecord record = new_task_record(spec, "systemd", options_.owner_kind);
  ResourceRecord res{kind, unit, "intended", {}};
  res.attributes["bus"] = bus_.user ? "user" : "system";
  res.attributes["uid"] = std::to_string(bus_.uid);
  record.resources.push_back(res);
  return record;
}

// Fork a child that waits; match JobRemoved, StartTransientUnit (mode fail) with the child's
// pidfd or pid; require the job's result "done"; verify the scope is active and the child in
// its cgroup; read the limits back; only then let the child exec. Recorded in the ledger first.
std::unique_ptr<Task> SystemdSpawner::spawn(const TaskSpec& input) {
  TaskSpec spec = input;
  if (spec.id.empty()) spec.id = make_task_id();
  validate_spec(spec);
  if (options_.unit_type == "service") return spawn_service(std::move(spec));
  LaunchRequest request = launch_request(spec);
  std::string name = unit_name(spec.id, "scope");
  auto manager = std::make_unique<Manager>(bus_);  // JobRemoved is matched from here on
  std::shared_ptr<const Ledger> ledger = options_.ledger;
  std::optional<TaskRecord> record;
  if (ledger) {
    record = intent_record(spec, name, std::string(kind::scope));
    ledger->create(*record);  // before the unit exists: a crash from here on is found by reap
    crash_point("spawn-after-intent");
  }
  UnitRef unit{std::string(kind::scope), name, ""};
  bool started = false;
  try {
    auto anchor = std::make_unique<Anchor>();
    HeldChild child(request);
    ScopeProcesses processes{{child.pid(), anchor->pid()}, {child.pidfd(), anchor->pidfd()}, PidHandover::pidfds};
    sdbus::ObjectPath job = start_scope(*manager, name, spec, options_.ledger ? options_.ledger->dir() : "", processes);
    started = true;
    spdlog::debug("task {}: StartTransientUnit queued {}", spec.id, std::string(job));
    std::string result = manager->jobs().wait(job, Clock::now() + kJobTimeout);
    spdlog::debug("task {}: start job {}", spec.id, result);
    if (result != "done") throw Error(ErrorKind::system, "the start job of " + name + " ended with \"" + result + "\"");
    unit.cgroup = verify_active(*manager, name);
    if (record) {
      record->resources[0].state = "created";
      record->resources[0].attributes["cgroup"] = unit.cgroup;
      ledger->update(*record);
      crash_point("spawn-after-cgroup");
    }
    verify_members(unit.cgroup, {child.pid(), anchor->pid()});
    verify_limits(unit.cgroup, spec.limits, kAnchors, bus_.user);
    Launched launched = child.release();
    spdlog::debug("task {}: pid {} in {} ({})", spec.id, launched.pid, name, unit.cgroup);
    if (record) {
      record->state = TaskState::running;
      record->main_pid = launched.pid;
      ledger->update(*record);
      crash_point("spawn-after-launch");
    }
    TaskRecordRef ref{ledger, record ? std::move(*record) : TaskRecord{}, options_.keep_record};
    return std::make_unique<SystemdTask>(std::move(spec), std::move(manager), std::move(unit), std::move(launched),
                                         std::move(anchor), std::move(ref));
  } catch (...) {
    // The held child and the anchor are gone by now (their destructors); the unit, if this
    // spawn made it, is destroyed and verified before the error goes up.
    undo_start(started ? manager.get() : nullptr, unit, spec.id, ledger, record);
    throw;
  }
}

BusLookup usable_bus(const BackendOptions& o) {
  if (o.unit_type != "scope" && o.unit_type != "service")
    throw Error(ErrorKind::invalid_argument, "unknown --unit-type \"" + o.unit_type + "\": use scope or service");
  BusLookup lookup = find_bus(o.user_manager);
  if (!lookup.unavailable.empty()) throw Error(ErrorKind::unsupported, lookup.unavailable);
  return lookup;
}

// A limit's controller must be in the cgroup the manager puts units under: for the system
// manager the root's controllers, for a user manager what was delegated to user@UID.service.
Capability limit_capability(const std::string& controller, const BusTarget& bus) {
  std::string mount = discover_hierarchy().mount;
  std::string base = bus.user ? mount + "/user.slice/user-" + std::to_string(bus.uid) + ".slice/user@" +
                                    std::to_string(bus.uid) + ".service"
                              : mount;
  std::ifstream in(base + "/cgroup.controllers");
  for (std::string word; in >> word;)
    if (word == controller) return {true, "set as a unit property, read back from " + controller + ".* at spawn"};
  return {false, "the " + controller + " controller is not available in " + base +
                     (bus.user ? " (not delegated to the user manager)" : "")};
}

// The main process and cgroup of a started service ("" and 0 when it has ended already).
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
    s.main_pid = static_cast<pid_t>(manager.property(*path, iface, "MainPID").get<std::uint32_t>());
    std::string group = manager.property(*path, iface, "ControlGroup").get<std::string>();
    if (!group.empty()) s.cgroup = discover_hierarchy().mount + group;
    return s;
  } catch (const sdbus::Error& e) {
    throw translate("read the state of " + name, e);
  }
}

std::string absolute_dir(const std::string& dir) {
  return std::filesystem::absolute(dir.empty() ? "." : dir).lexically_normal().string();
}

// --unit-type service: systemd itself starts and supervises the program. Recorded first; the
// start job must be "done" (Type=exec: the program was executed); then its MainPID is
// watched. The limits' controllers are checked before anything starts (systemd applies the
// limits before the exec), and read back from the cgroup while it exists.
std::unique_ptr<Task> SystemdSpawner::spawn_service(TaskSpec spec) {
  LaunchRequest request = launch_request(spec);  // a missing program makes nothing (127/126)
  const Limits& l = spec.limits;
  for (auto [given, controller] : {std::pair{l.memory_max_bytes.has_value(), "memory"},
                                   std::pair{l.pids_max.has_value(), "pids"}, std::pair{l.cpu_max_percent.has_value(), "cpu"}}) {
    Capability c = limit_capability(controller, bus_);
    if (given && !c.available) throw Error(ErrorKind::unsupported, std::string("cannot enforce the ") + controller + " limit: " + c.reason);
  }
  std::string name = unit_name(spec.id, "service");
  auto manager = std::make_unique<Manager>(bus_);  // JobRemoved is matched from here on
  std::shared_ptr<const Ledger> ledger = options_.ledger;
  std::optional<TaskRecord> record;
  if (ledger) {
    record = intent_record(spec, name, std::string(kind::service));
    ledger->create(*record);
    crash_point("spawn-after-intent");
  }
  UnitRef unit{std::string(kind::service), name, ""};
  bool started = false;
  try {
    ServiceExec exec{request.program, request.argv, request.envp, absolute_dir(spec.cwd), {}};
    for (int i = 0; i < 3; ++i) exec.stdio[i] = request.stdio[i] >= 0 ? request.stdio[i] : i;
    auto begun = Clock::now();
    sdbus::ObjectPath job = start_service(*manager, name, spec, options_.ledger ? options_.ledger->dir() : "", exec);
    started = true;
    std::string result = manager->jobs().wait(job, Clock::now() + kJobTimeout);
    if (result != "done")
      throw Error(ErrorKind::system, "the start job of " + name + " ended with \"" + result +
                                         "\": systemd could not start " + request.program + " (its journal says why)");
    ServiceState state = service_state(*manager, name);
    unit.cgroup = state.cgroup;
    if (record) {
      record->resources[0].state = "created";
      record->resources[0].attributes["cgroup"] = unit.cgroup;
      record->state = TaskState::running;
      record->main_pid = state.main_pid;
      ledger->update(*record);
      crash_point("spawn-after-launch");
    }
    if (!unit.cgroup.empty() && ::access(unit.cgroup.c_str(), F_OK) == 0) verify_limits(unit.cgroup, spec.limits, 0, bus_.user);
    spdlog::debug("task {}: main pid {} in {} ({})", spec.id, state.main_pid, name, unit.cgroup);
    TaskRecordRef ref{ledger, record ? std::move(*record) : TaskRecord{}, options_.keep_record};
    return std::make_unique<ServiceTask>(std::move(spec), std::move(manager), std::move(unit), state.main_pid, begun,
                                         std::move(ref));
  } catch (...) {
    undo_start(started ? manager.get() : nullptr, unit, spec.id, ledger, record);
    throw;
  }
}

}  // namespace

std::unique_ptr<Spawner> make_systemd_backend(const BackendOptions& options) {
  return std::make_unique<SystemdSpawner>(options, usable_bus(options).target);
}

Capabilities systemd_backend_capabilities(const BackendOptions& o) {
  Capabilities caps;
  caps.backend = "systemd";
  BusTarget bus;
  try {
    bus = usable_bus(o).target;
    Manager manager(bus);
    std::string where = bus.user ? "the user manager of uid " + std::to_string(bus.uid) + " at " + bus.address
                                 : "the system manager";
    caps.usable = {true, "systemd " + manager.version() + ": transient " + o.unit_type + " units of " + where};
  } catch (const Error& e) {
    caps.usable = {false, e.what()};
  } catch (const sdbus::Error& e) {
    caps.usable = {false, describe(e)};
  }
  if (!caps.usable.available) {
    for (Capability* c : {&caps.kill_all, &caps.verify, &caps.survives_caller_crash, &caps.memory_max,
                          &caps.pids_max, &caps.cpu_max})
      *c = {false, caps.usable.reason};
    return caps;
  }
  caps.kill_all = {true, "KillUnit SIGTERM to all of the unit, then cgroup.kill on its cgroup"};
  caps.verify = {true, "waits for the unit's cgroup to be empty, stops the unit, verifies it is unloaded "
                       "and its cgroup removed"};
  if (o.ledger)
    caps.survives_caller_crash = {true, "recorded in the ledger " + o.ledger->dir() +
                                            " before the unit exists: `cgspawn reap` finds and destroys it"};
  else
    caps.survives_caller_crash = {false, "no ledger given: the unit outlives its caller unrecorded"};
  caps.memory_max = limit_capability("memory", bus);
  caps.pids_max = limit_capability("pids", bus);
  caps.cpu_max = limit_capability("cpu", bus);
  return caps;
}

ResourceOutcome destroy_recorded_systemd_unit(const ResourceRecord& resource, const DestroyOptions& options) {
  return destroy_recorded_unit(resource, options);
}

}  // namespace cgspawn
