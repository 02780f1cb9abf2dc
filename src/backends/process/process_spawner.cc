// The process backend's Spawner: task cgroups under one parent cgroup.
#include "cgspawn/process_spawner.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "backends/process/process_backend.hpp"
#include "backends/process/process_task.hpp"
#include "backends/spec_checks.hpp"
#include "backends/systemd/bus.hpp"
#include "backends/systemd/delegated_scope.hpp"
#include "cgroup/destroy.hpp"
#include "cgroup/hierarchy.hpp"
#include "cgroup/limits.hpp"
#include "cgroup/parent.hpp"
#include "cgspawn/parse.hpp"
#include "launch/launcher.hpp"
#include "util/crash_point.hpp"
#include "util/file_io.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

constexpr const char* kTaskPrefix = "cgspawn-";
constexpr const char* kLedgerXattr = "user.cgspawn.ledger";

bool kernel_has_cgroup_kill() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  return major > 5 || (major == 5 && minor >= 14);
}

void check_parent(const std::string& parent, const Hierarchy& hierarchy) {
  if (hierarchy.layout == CgroupLayout::none) return;
  const std::string& mount = hierarchy.mount;
  if (parent.size() <= mount.size() + 1 || parent.rfind(mount + "/", 0) != 0 ||
      parent.find("/..") != std::string::npos || parent.find("//") != std::string::npos)
    throw Error(ErrorKind::invalid_argument,
                "parent cgroup " + parent + " is not a cgroup below the cgroup2 mount " + mount);
}

// mkdir -p for the parent. Returns the directories it created, deepest first.
std::vector<std::string> make_parent(const std::string& parent, const std::string& mount) {
  std::vector<std::string> created;
  for (size_t pos = mount.size() + 1; pos <= parent.size(); ++pos) {
    if (pos != parent.size() && parent[pos] != '/') continue;
    std::string dir = parent.substr(0, pos);
    if (::mkdir(dir.c_str(), 0755) == 0) created.insert(created.begin(), dir);
    else if (errno != EEXIST) throw_sys("create parent cgroup " + dir, errno);
  }
  return created;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// As root on a systemd host with pure cgroup v2, and no parent named: the system manager
// hands cgspawn a delegated scope to make task cgroups in, instead of cgspawn writing into
// cgroups systemd owns. Not for a user: moving a task into a scope of its user manager needs
// write access to a cgroup both share (user-UID.slice, root's), so a user runs cgspawn inside
// a delegated subtree of its own instead (the default parent below its own cgroup).
bool use_delegated_scope(const ProcessSpawnerOptions& options, const Hierarchy& hierarchy) {
  const char* env_parent = std::getenv("CGSPAWN_PARENT");
  if (!options.parent.empty() || (env_parent && *env_parent) || hierarchy.layout != CgroupLayout::unified) return false;
  return ::geteuid() == 0 && systemd::find_bus(false).unavailable.empty();
}

// Where the system manager takes a delegated scope's controllers from: the root cgroup.
Capability delegated_capability(const std::string& controller, const Hierarchy& hierarchy) {
  const std::string& base = hierarchy.mount;
  std::istringstream in(read_file(base + "/cgroup.controllers").value_or(""));
  for (std::string word; in >> word;)
    if (word == controller) return {true, "systemd delegates it to cgspawn's scope (Delegate=yes; from " + base + ")"};
  return {false, "systemd cannot delegate " + controller + ": it is not in " + base + "/cgroup.controllers"};
}

class ProcessSpawner final : public Spawner {
 public:
  explicit ProcessSpawner(const ProcessSpawnerOptions& options)
      : hierarchy_(discover_hierarchy()), options_(options), delegated_(use_delegated_scope(options, hierarchy_)) {
    if (delegated_) return;  // the parent is the scope, made at the first spawn
    parent_ = options.parent.empty() ? default_parent() : options.parent;
    check_parent(parent_, hierarchy_);
    // cgspawn's own default parent goes when empty; one named by $CGSPAWN_PARENT is the user's.
    const char* env_parent = std::getenv("CGSPAWN_PARENT");
    if (options.parent.empty() && !parent_.empty() && !(env_parent && *env_parent)) prune_dirs_ = {parent_};
  }

  Capabilities capabilities() const override;
  std::unique_ptr<Task> spawn(const TaskSpec& spec) override;

 private:
  void refuse_unenforceable(const Limits& limits) const;
  std::optional<Cgroup> make_task_cgroup(const TaskSpec& spec);
  LaunchRequest launch_request(const TaskSpec& spec, const std::string& program) const;
  std::vector<std::string> prune_dirs();
  void note_created(const std::vector<std::string>& created);
  void ensure_parent();

  TaskRecord intent_record(const TaskSpec& spec) const;
  void record_cgroup(TaskRecord& record, const Cgroup& cgroup) const;

  Hierarchy hierarchy_;
  ProcessSpawnerOptions options_;
  bool delegated_;  // task cgroups in a delegated scope (scope_, from the first spawn on)
  // Guards parent_, scope_ and prune_dirs_.
  mutable std::mutex mutex_;
  std::string parent_;
  std::unique_ptr<systemd::DelegatedScope> scope_;
  // Parent cgroups this spawner made (and the default parent, cgspawn's own): removed again,
  // deepest first, when a task ends and they are empty.
  std::vector<std::string> prune_dirs_;
};

void ProcessSpawner::ensure_parent() {
  std::lock_guard lock(mutex_);
  if (!delegated_ || scope_) return;
  scope_ = systemd::DelegatedScope::start(false);
  parent_ = scope_->cgroup();
}

std::vector<std::string> ProcessSpawner::prune_dirs() {
  std::lock_guard lock(mutex_);
  return prune_dirs_;
}

void ProcessSpawner::note_created(const std::vector<std::string>& created) {
  std::lock_guard lock(mutex_);
  for (const auto& dir : created)
    if (std::find(prune_dirs_.begin(), prune_dirs_.end(), dir) == prune_dirs_.end()) prune_dirs_.push_back(dir);
  std::sort(prune_dirs_.begin(), prune_dirs_.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
}

Capabilities ProcessSpawner::capabilities() const {
  std::lock_guard lock(mutex_);
  Capabilities caps;
  caps.backend = "process";
  caps.usable = {true, hierarchy_.layout == CgroupLayout::none ? "no cgroup2: tasks run as process groups"
                       : delegated_ && !scope_
                           ? std::string("task cgroups in a transient scope that systemd delegates to cgspawn "
                                         "(Delegate=yes), made at the first spawn")
                           : "task cgroups under " + parent_};
  if (hierarchy_.layout == CgroupLayout::none) {
    caps.kill_all = {false, "no cgroup2 on this host: only the task's process group is signalled; "
                            "processes that call setsid() escape"};
    caps.verify = {false, "no cgroup2 on this host: nothing can prove every descendant is gone"};
  } else {
    caps.kill_all = {true, kernel_has_cgroup_kill() ? "cgroup.kill on the task cgroup"
                                                    : "freeze the task cgroup, SIGKILL each process, thaw"};
    caps.verify = {true, "waits for \"populated 0\" in the task cgroup's cgroup.events, then removes it"};
  }
  if (options_.ledger)
    caps.survives_caller_crash = {true, "recorded in the ledger " + options_.ledger->dir() +
                                            " before its cgroup exists: `cgspawn reap` finds and destroys it"};
  else
    caps.survives_caller_crash = {false, "no ledger given: a task whose caller dies keeps running in its "
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

void ProcessSpawner::refuse_unenforceable(const Limits& limits) const {
  if (limits.empty()) return;
  if (hierarchy_.layout == CgroupLayout::none)
    throw Error(ErrorKind::unsupported, "cannot enforce limits: no cgroup2 on this host");
  check_limits_available(limits, parent_, hierarchy_);
}

std::optional<Cgroup> ProcessSpawner::make_task_cgroup(const TaskSpec& spec) {
  if (hierarchy_.layout == CgroupLayout::none) return std::nullopt;
  // A concurrent task's end may remove the parent between our mkdir and the task's: then
  // make it again.
  for (int attempt = 0;; ++attempt) {
    note_created(make_parent(parent_, hierarchy_.mount));
    prepare_controllers(spec.limits, parent_, hierarchy_);
    try {
      return Cgroup::create(parent_, kTaskPrefix + spec.id);
    } catch (const Error&) {
      if (exists(parent_) || attempt == 3) throw;
    }
  }
}

LaunchRequest ProcessSpawner::launch_request(const TaskSpec& spec, const std::string& program) const {
  LaunchRequest request;
  request.program = program;
  request.argv = spec.argv;
  request.envp = build_environment(spec);
  request.cwd = spec.cwd;
  request.stdio[0] = spec.stdin_fd;
  request.stdio[1] = spec.stdout_fd;
  request.stdio[2] = spec.stderr_fd;
  request.new_process_group = hierarchy_.layout == CgroupLayout::none;
  return request;
}

TaskRecord ProcessSpawner::intent_record(const TaskSpec& spec) const {
  TaskRecord record = new_task_record(spec, "process", options_.owner_kind);
  if (hierarchy_.layout != CgroupLayout::none)
    record.resources.push_back({std::string(kind::cgroup), parent_ + "/" + kTaskPrefix + spec.id, "intended"});
  return record;
}

// Marks the cgroup as this ledger's, so `reap --orphans` may destroy it if the record is ever
// lost. The record says "created" with the update after launch: until then it says
// "intended", and a destroy from the record opens the cgroup if it exists either way.
void ProcessSpawner::record_cgroup(TaskRecord& record, const Cgroup& cgroup) const {
  const std::string& dir = options_.ledger->dir();
  if (::setxattr(cgroup.path().c_str(), kLedgerXattr, dir.data(), dir.size(), 0) != 0)
    spdlog::debug("task {}: setxattr {} on {}: {}", record.id, kLedgerXattr, cgroup.path(), errno_text(errno));
  record.resources.back().state = "created";
}

std::unique_ptr<Task> ProcessSpawner::spawn(const TaskSpec& input) {
  TaskSpec spec = input;
  if (spec.id.empty()) spec.id = make_task_id();
  validate_spec(spec);
  std::string program = resolve_program(spec.argv[0], task_path(spec));
  ensure_parent();
  refuse_unenforceable(spec.limits);  // before the ledger hears of the task or its parent
  LaunchRequest request = launch_request(spec, program);
  const Ledger* ledger = options_.ledger.get();
  std::optional<TaskRecord> record;
  if (ledger) {
    record = intent_record(spec);
    ledger->create(*record);  // before the cgroup exists: a crash from here on is found by reap
    if (hierarchy_.layout != CgroupLayout::none) ledger->note_parent(parent_);
    crash_point("spawn-after-intent");
  }
  std::optional<Cgroup> cgroup;
  try {
    cgroup = make_task_cgroup(spec);
    if (cgroup && record) record_cgroup(*record, *cgroup);
    crash_point("spawn-after-cgroup");
    if (cgroup) apply_limits(*cgroup, spec.limits);
    if (cgroup) request.cgroup_fd = cgroup->dirfd();
    Launched launched = launch(request);
    spdlog::debug("task {}: pid {} in {}", spec.id, launched.pid, cgroup ? cgroup->path() : "its process group");
    if (record) {
      record->state = TaskState::running;
      record->main_pid = launched.pid;
      ledger->update(*record);
      crash_point("spawn-after-launch");
    }
    auto task = std::make_unique<ProcessTask>(std::move(spec), std::move(cgroup), std::move(launched),
                                              prune_dirs());
    if (record) task->attach_record(options_.ledger, std::move(*record), options_.keep_record);
    return task;
  } catch (...) {
    if (cgroup) cgroup->remove_tree(Clock::now() + std::chrono::seconds(1));
    remove_empty(prune_dirs());
    if (record) ledger->remove(record->id);
    throw;
  }
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
  try {
    return make_process_backend(o)->capabilities();
  } catch (const Error& e) {
    Capabilities caps;
    caps.backend = "process";
    caps.usable = {false, e.what()};
    return caps;
  }
}

}  // namespace cgspawn
