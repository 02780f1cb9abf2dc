// SPDX-License-Identifier: MIT
// The process backend's Spawner: task cgroups under one parent cgroup.
#include "cgspawn/process_spawner.hpp"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "backends/backend_rows.hpp"
#include "backends/process/process_boundary.hpp"
#include "backends/spec_checks.hpp"
#include "cgroup/hierarchy.hpp"
#include "cgroup/limits.hpp"
#include "cgroup/parent.hpp"
#include "cgroup/usage.hpp"
#include "dbus/bus.hpp"
#include "dbus/delegated_scope.hpp"
#include "hang/hang_report.hpp"
#include "launch/isolation.hpp"
#include "launch/launcher.hpp"
#include "lineage/lineage.hpp"
#include "storage/scratch.hpp"
#include "task/names.hpp"
#include "task/spawn_transaction.hpp"
#include "util/crash_point.hpp"
#include "util/file_io.hpp"
#include "util/logger.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

bool kernel_has_cgroup_kill() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  return major > 5 || (major == 5 && minor >= 14);
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// As root on a systemd host with pure cgroup v2, and no parent named: the system manager
// hands cgspawn a delegated scope to make task cgroups in, instead of cgspawn writing into
// cgroups systemd owns. Not for a user: moving a task into a scope of its user manager needs
// write access to a cgroup both share (user-UID.slice, root's), so a user runs cgspawn inside
// a delegated subtree of its own instead (the default parent below its own cgroup).
bool use_delegated_scope(const ProcessSpawnerOptions& options, const Hierarchy& hierarchy) {
  const char* env_parent = std::getenv("CGSPAWN_PARENT");
  if (!options.parent.empty() || (env_parent && *env_parent) || hierarchy.layout != CgroupLayout::unified)
    return false;
  return ::geteuid() == 0 && dbus::find_bus(false).unavailable.empty();
}

// Where the system manager takes a delegated scope's controllers from: the root cgroup.
Capability delegated_capability(const std::string& controller, const Hierarchy& hierarchy) {
  const std::string& base = hierarchy.mount;
  std::istringstream in(read_file(base + "/cgroup.controllers").value_or(""));
  for (std::string word; in >> word;)
    if (word == controller)
      return {true, "systemd delegates it to cgspawn's scope (Delegate=yes; from " + base + ")"};
  return {false, "systemd cannot delegate " + controller + ": it is not in " + base + "/cgroup.controllers"};
}

class ProcessSpawner final : public Spawner {
 public:
  explicit ProcessSpawner(const ProcessSpawnerOptions& options)
      : hierarchy_(discover_hierarchy()),
        options_(options),
        delegated_(use_delegated_scope(options, hierarchy_)) {
    if (delegated_) return;  // the parent is the scope, made at the first spawn
    parent_ = options.parent.empty() ? default_parent() : options.parent;
    if (hierarchy_.layout != CgroupLayout::none) check_parent_path(parent_, hierarchy_.mount);
    // cgspawn's own default parent goes when empty; one named by $CGSPAWN_PARENT is the user's.
    const char* env_parent = std::getenv("CGSPAWN_PARENT");
    if (options.parent.empty() && !parent_.empty() && !(env_parent && *env_parent)) own_default_ = parent_;
  }

  Capabilities capabilities() const override;
  std::unique_ptr<Task> spawn(const TaskSpec& spec) override;

 private:
  void refuse_unenforceable(const Limits& limits) const;
  // Why task cgroups cannot be made under the parent here ("" when they can).
  std::string unwritable() const;
  std::optional<Cgroup> make_task_cgroup(const TaskSpec& spec);
  void ensure_parent();
  std::string parent() const;
  std::vector<ResourceRecord> intended(const TaskSpec& spec) const;
  void mark_cgroup(SpawnTransaction& txn, const Cgroup& cgroup) const;

  Hierarchy hierarchy_;
  ProcessSpawnerOptions options_;
  bool delegated_;            // task cgroups in a delegated scope (scope_, from the first spawn on)
  mutable std::mutex mutex_;  // guards parent_ and scope_
  std::string parent_;
  std::unique_ptr<dbus::DelegatedScope> scope_;
  std::string own_default_;  // the default parent, cgspawn's own (goes when empty); "" when named
};

void ProcessSpawner::ensure_parent() {
  std::lock_guard lock(mutex_);
  if (!delegated_ || scope_) return;
  scope_ = dbus::DelegatedScope::start(false);
  parent_ = scope_->cgroup();
}

std::string ProcessSpawner::parent() const {
  std::lock_guard lock(mutex_);
  return parent_;
}

Capabilities ProcessSpawner::capabilities() const {
  std::lock_guard lock(mutex_);
  Capabilities caps;
  caps.backend = "process";
  if (std::string why = unwritable(); !why.empty()) {
    caps.usable = {false, why};
    for (Capability* c : caps.guarantees()) *c = {false, why};
    return caps;
  }
  caps.usable = {true,
                 hierarchy_.layout == CgroupLayout::none ? "no cgroup2: tasks run as process groups"
                 : delegated_ && !scope_
                     ? std::string("task cgroups in a transient scope that systemd delegates to cgspawn "
                                   "(Delegate=yes), made at the first spawn")
                     : "task cgroups under " + parent_};
  if (hierarchy_.layout == CgroupLayout::none) {
    caps.kill_all = {false,
                     "no cgroup2 on this host: only the task's process group is signalled; "
                     "processes that call setsid() escape"};
    caps.verify = {false, "no cgroup2 on this host: nothing can prove every descendant is gone"};
  } else {
    caps.kill_all = {true, kernel_has_cgroup_kill() ? "cgroup.kill on the task cgroup"
                                                    : "freeze the task cgroup, SIGKILL each process, thaw"};
    caps.verify = {true, "waits for \"populated 0\" in the task cgroup's cgroup.events, then removes it"};
  }
  caps.lineage = lineage_capability();
  caps.scratch = local_scratch_capability();
  caps.private_tmp = private_tmp_capability();
  caps.private_ipc = private_ipc_capability();
  bool cgroup2 = hierarchy_.layout != CgroupLayout::none;
  caps.hang_report =
      hang_report_capability(cgroup2, cgroup2 ? "the task cgroup" : "no cgroup2: its process group");
  caps.usage =
      cgroup2 ? usage_capability(parent_) : Capability{false, "no cgroup2 on this host: usage is not read"};
  if (options_.ledger)
    caps.survives_caller_crash = {true,
                                  "recorded in the ledger " + options_.ledger->dir() +
                                      " before its cgroup exists: `cgspawn reap` finds and destroys it"};
  else
    caps.survives_caller_crash = {false,
                                  "no ledger given: a task whose caller dies keeps running in its "
                                  "cgroup and nothing records where"};
  if (delegated_ && !scope_) {
    caps.memory_max = delegated_capability("memory", hierarchy_);
    caps.pids_max = delegated_capability("pids", hierarchy_);
    caps.cpu_max = delegated_capability("cpu", hierarchy_);
    return caps;
  }
  caps.memory_max = controller_capability("memory", parent_, hierarchy_);
  caps.pids_max = controller_capability("pids", parent_, hierarchy_);
  caps.cpu_max = controller_capability("cpu", parent_, hierarchy_);
  return caps;
}

std::string ProcessSpawner::unwritable() const {
  if (hierarchy_.layout == CgroupLayout::none || (delegated_ && !scope_)) return "";
  return parent_unwritable(parent_, hierarchy_.mount);
}

void ProcessSpawner::refuse_unenforceable(const Limits& limits) const {
  if (limits.empty()) return;
  if (hierarchy_.layout == CgroupLayout::none)
    throw Error(ErrorKind::unsupported, "cannot enforce limits: no cgroup2 on this host");
  check_limits_available(limits, parent(), hierarchy_);
}

std::optional<Cgroup> ProcessSpawner::make_task_cgroup(const TaskSpec& spec) {
  if (hierarchy_.layout == CgroupLayout::none) return std::nullopt;
  std::string parent = this->parent();
  // A concurrent task's end may remove the parent between our mkdir and the task's (and a
  // third task make it again before we look): then make it again. Only the task cgroup itself
  // existing (its id in use) fails at once.
  for (int attempt = 0;; ++attempt) {
    make_parent(parent, hierarchy_.mount);
    prepare_controllers(spec.limits, parent, hierarchy_);
    try {
      return Cgroup::create(parent, kTaskPrefix + spec.id);
    } catch (const Error&) {
      if (exists(parent + "/" + kTaskPrefix + spec.id) || attempt == 4) throw;
    }
  }
}

std::vector<ResourceRecord> ProcessSpawner::intended(const TaskSpec& spec) const {
  if (hierarchy_.layout == CgroupLayout::none) return {};
  return {{{ResourceKind::cgroup, parent() + "/" + kTaskPrefix + spec.id}, ResourceState::intended, {}}};
}

// Marks the cgroup as this ledger's, so `reap --orphans` may destroy it if the record is ever
// lost. The record says "created" from the next write on: until then it says "intended", and
// a destroy from the record opens the cgroup if it exists either way.
void ProcessSpawner::mark_cgroup(SpawnTransaction& txn, const Cgroup& cgroup) const {
  if (!txn.ledger()) return;
  const std::string& dir = txn.ledger()->dir();
  if (::setxattr(cgroup.path().c_str(), kLedgerXattr, dir.data(), dir.size(), 0) != 0)
    logger().debug("task {}: setxattr {} on {}: {}", txn.record().id, kLedgerXattr, cgroup.path(),
                   errno_text(errno));
  txn.record().resources.back().state = ResourceState::created;
}

std::unique_ptr<Task> ProcessSpawner::spawn(const TaskSpec& input) {
  TaskSpec spec = prepared_spec(input);
  std::string program = resolve_program(spec.argv[0], task_path(spec));
  ensure_parent();
  if (std::string why = unwritable(); !why.empty()) throw Error(ErrorKind::unsupported, why);
  refuse_unenforceable(spec.limits);  // before the ledger hears of the task or its parent
  if (std::string why = isolation_unavailable({spec.private_tmp, spec.private_ipc}); !why.empty())
    throw Error(ErrorKind::unsupported, why);
  refuse_hidden_cwd({spec.private_tmp, spec.private_ipc, spec.scratch ? scratch_path(spec) : ""}, spec.cwd);
  SpawnTransaction txn({options_.ledger, options_.owner_kind, options_.keep_record, false}, spec, "process",
                       intended(spec));
  if (txn.ledger() && hierarchy_.layout != CgroupLayout::none) txn.ledger()->note_parent(parent());
  ParentPruning pruning{hierarchy_.mount, own_default_};
  txn.on_unwind([this, pruning] { prune_parents(parent(), pruning); });
  std::optional<Cgroup> cgroup = make_task_cgroup(spec);
  auto& boundary = txn.adopt(std::make_unique<ProcessBoundary>(std::move(cgroup), pruning));
  if (boundary.cgroup()) mark_cgroup(txn, *boundary.cgroup());
  crash_point("spawn-after-cgroup");
  if (boundary.cgroup()) apply_limits(*boundary.cgroup(), spec.limits);
  attach_local_scratch(txn, spec);
  if (spec.track_lineage) Lineage::get();  // subscribed before the main process can fork
  txn.record().main_pid = boundary.launch(launch_request_for(spec, program));
  logger().debug("task {}: pid {} in {}", spec.id, txn.record().main_pid,
                 boundary.cgroup() ? boundary.cgroup()->path() : "its process group");
  return txn.commit(std::move(spec), boundary.started());
}

}  // namespace

std::string default_parent() {
  if (const char* env = std::getenv("CGSPAWN_PARENT"); env && *env) return env;
  Hierarchy h = discover_hierarchy();
  if (h.layout == CgroupLayout::none) return "";
  if (::geteuid() == 0) return h.mount + "/cgspawn";
  std::string own = h.own_cgroup == "/" ? "" : h.own_cgroup;
  return h.mount + own + "/cgspawn";
}

std::unique_ptr<Spawner> make_process_spawner(const ProcessSpawnerOptions& options) {
  return std::make_unique<ProcessSpawner>(options);
}

std::unique_ptr<Spawner> make_process_backend(const BackendOptions& o) {
  return make_process_spawner({o.parent, o.ledger, o.owner_kind, o.keep_record});
}

Capabilities process_backend_capabilities(const BackendOptions& o) {
  return capabilities_by_making("process", make_process_backend, o);
}

}  // namespace cgspawn
