// The podman backend's Spawner: each task is one container, placed under a cgroup2 node of
// cgspawn's own (<parent>/cgspawn-<id>, passed to podman as an absolute --cgroup-parent), so
// that the node, and the empty dirs podman leaves in the v1 hierarchies, are ours to kill and
// remove. Everything is recorded in the ledger before it is made.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "backends/podman/container_verify.hpp"
#include "backends/podman/podman_backend.hpp"
#include "backends/podman/podman_cli.hpp"
#include "backends/podman/podman_host.hpp"
#include "backends/podman/podman_task.hpp"
#include "backends/spec_checks.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/parent.hpp"
#include "cgspawn/error.hpp"
#include "cgspawn/parse.hpp"
#include "cgspawn/process_spawner.hpp"
#include "util/crash_point.hpp"
#include "util/file_io.hpp"
#include "util/proc_info.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTaskPrefix = "cgspawn-";

// mkdir -p below the cgroup2 mount. Returns the directories it created, deepest first.
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

std::string first_word(const std::string& text) {
  std::istringstream in(text);
  std::string w;
  in >> w;
  return w;
}

// --cpus takes CPUs as a decimal: 150 % -> "1.50".
std::string cpus(std::uint32_t percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%02u", percent / 100, percent % 100);
  return buf;
}

class PodmanSpawner final : public Spawner {
 public:
  explicit PodmanSpawner(const BackendOptions& options);
  Capabilities capabilities() const override;
  std::unique_ptr<Task> spawn(const TaskSpec& spec) override;

 private:
  void validate(const TaskSpec& spec) const;
  ContainerRef ref_for(const TaskSpec& spec) const;
  std::vector<std::string> run_args(const TaskSpec& spec, const ContainerRef& ref) const;
  TaskRecord intent_record(const TaskSpec& spec, const ContainerRef& ref) const;
  void start_container(const TaskSpec& spec, ContainerRef& ref) const;
  void record_started(TaskRecord& record, const ContainerRef& ref, int main_pid) const;
  std::vector<std::string> prune_dirs();
  void note_created(const std::vector<std::string>& created);

  BackendOptions options_;
  PodmanHost host_;
  std::string parent_;  // full path of the cgroup2 dir the task nodes go under
  std::string rootfs_;  // absolute
  std::mutex mutex_;
  std::vector<std::string> prune_dirs_;
};

PodmanSpawner::PodmanSpawner(const BackendOptions& options) : options_(options), host_(probe_podman_host()) {
  if (!host_.usable.available) throw Error(ErrorKind::unsupported, "the podman backend cannot run here: " + host_.usable.reason);
  if (options.image.empty() == options.rootfs.empty())
    throw Error(ErrorKind::invalid_argument, "the podman backend needs exactly one of --image IMAGE or --rootfs DIR");
  if (!options.rootfs.empty()) {
    rootfs_ = std::filesystem::absolute(options.rootfs).lexically_normal().string();
    struct stat st{};
    if (::stat(rootfs_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw Error(ErrorKind::invalid_argument, "--rootfs " + options.rootfs + " is not a directory");
  }
  const std::string& mount = host_.hierarchy.mount;
  parent_ = options.parent.empty() ? default_parent() : options.parent;
  if (parent_.size() <= mount.size() + 1 || parent_.rfind(mount + "/", 0) != 0 ||
      parent_.find("/..") != std::string::npos || parent_.find("//") != std::string::npos)
    throw Error(ErrorKind::invalid_argument, "parent cgroup " + parent_ + " is not a cgroup below the cgroup2 mount " + mount);
  // cgspawn's own default parent goes when empty; one named by $CGSPAWN_PARENT is the user's.
  const char* env_parent = std::getenv("CGSPAWN_PARENT");
  if (options.parent.empty() && !(env_parent && *env_parent)) prune_dirs_ = {parent_};
}

std::vector<std::string> PodmanSpawner::prune_dirs() {
  std::lock_guard lock(mutex_);
  return prune_dirs_;
}

void PodmanSpawner::note_created(const std::vector<std::string>& created) {
  std::lock_guard lock(mutex_);
  for (const auto& dir : created)
    if (std::find(prune_dirs_.begin(), prune_dirs_.end(), dir) == prune_dirs_.end()) prune_dirs_.push_back(dir);
  std::sort(prune_dirs_.begin(), prune_dirs_.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
}

Capabilities PodmanSpawner::capabilities() const { return podman_backend_capabilities(options_); }

void PodmanSpawner::validate(const TaskSpec& spec) const {
  validate_spec(spec);
  check_podman_limits(host_, spec.limits);
}

ContainerRef PodmanSpawner::ref_for(const TaskSpec& spec) const {
  ContainerRef ref;
  ref.task_id = spec.id;
  ref.name = kTaskPrefix + spec.id;
  ref.task_cgroup = parent_ + "/" + ref.name;
  ref.cgroup_parent = ref.task_cgroup.substr(host_.hierarchy.mount.size());  // absolute: relative is broken
  ref.keep = options_.keep_container;
  return ref;
}

// podman run -d: create and start in one call, every error of either with podman's words.
std::vector<std::string> PodmanSpawner::run_args(const TaskSpec& spec, const ContainerRef& ref) const {
  std::vector<std::string> a = {"run", "-d", "--pull=never", "--network=none", "--name", ref.name,
                                "--cgroup-parent", ref.cgroup_parent, "--label", "cgspawn.task=" + spec.id};
  const Limits& l = spec.limits;
  if (l.memory_max_bytes) {
    std::string bytes = std::to_string(*l.memory_max_bytes);
    a.insert(a.end(), {"--memory", bytes, "--memory-swap", bytes});  // no swap, as memory.swap.max = 0
  }
  if (l.pids_max) a.insert(a.end(), {"--pids-limit", std::to_string(*l.pids_max)});
  if (l.cpu_max_percent) a.insert(a.end(), {"--cpus", cpus(*l.cpu_max_percent)});
  for (const auto& e : spec.env) a.insert(a.end(), {"--env", e});
  if (!spec.cwd.empty()) a.insert(a.end(), {"--workdir", spec.cwd});  // a path inside the container
  if (!rootfs_.empty()) a.insert(a.end(), {"--rootfs", rootfs_ + ":O"});  // overlay: DIR is never written
  else a.push_back(options_.image);
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

TaskRecord PodmanSpawner::intent_record(const TaskSpec& spec, const ContainerRef& ref) const {
  TaskRecord record = new_task_record(spec, "podman", options_.owner_kind);
  record.resources.push_back({std::string(kind::container), ref.name, "intended", ref.attributes()});
  record.resources.push_back({std::string(kind::conmon), "(not started)", "intended", {{"task_cgroup", ref.task_cgroup}}});
  record.resources.push_back({std::string(kind::cgroup), ref.task_cgroup, "intended", {}});
  return record;
}

// Starts the container; fills in podman's id and conmon (pid + start time). conmon's pid comes
// from --conmon-pidfile, not from inspect: a container that has already exited shows
// ConmonPid 0, and one podman call less is ~50 ms. The container's cgroup is where podman
// puts it under an absolute --cgroup-parent: <parent>/libpod-<ID> (shared/podman.md section 2).
void PodmanSpawner::start_container(const TaskSpec& spec, ContainerRef& ref) const {
  std::string pidfile = (options_.ledger ? options_.ledger->task_dir(spec.id) : std::string("/tmp")) + "/" +
                        ref.name + ".conmon.pid";
  std::vector<std::string> args = run_args(spec, ref);
  args.insert(args.begin() + 1, {"--conmon-pidfile", pidfile});
  PodmanOutput run = run_podman(args, 120s);
  auto pid_text = read_file(pidfile);
  ::unlink(pidfile.c_str());
  if (!run.ok()) throw Error(ErrorKind::unsupported, "podman could not start container " + ref.name + ": " + run.error_text());
  ref.id = first_word(run.out);
  ref.container_cgroup = ref.cgroup_parent + "/libpod-" + ref.id;
  ref.conmon_pid = pid_text ? std::atoi(pid_text->c_str()) : 0;
  // Read at once: if conmon has already gone, start 0 never matches, and it counts as gone.
  if (ref.conmon_pid > 0) ref.conmon_start = process_start_time(ref.conmon_pid).value_or(0);
}

void PodmanSpawner::record_started(TaskRecord& record, const ContainerRef& ref, int main_pid) const {
  record.resources[0].id = ref.id;
  record.resources[0].state = "created";
  record.resources[0].attributes = ref.attributes();
  if (ref.conmon_pid > 0) {
    record.resources[1].id = std::to_string(ref.conmon_pid);
    record.resources[1].state = "created";
    record.resources[1].attributes["pid"] = std::to_string(ref.conmon_pid);
    record.resources[1].attributes["start_time"] = std::to_string(ref.conmon_start);
  }
  record.resources[2].attributes["container_cgroup"] = ref.container_cgroup;
  record.state = TaskState::running;
  record.main_pid = main_pid;
  options_.ledger->update(record, true);  // a container outlives a reboot of this machine
}

std::unique_ptr<Task> PodmanSpawner::spawn(const TaskSpec& input) {
  TaskSpec spec = input;
  if (spec.id.empty()) spec.id = make_task_id();
  validate(spec);
  ContainerRef ref = ref_for(spec);
  const Ledger* ledger = options_.ledger.get();
  std::optional<TaskRecord> record;
  if (ledger) {
    record = intent_record(spec, ref);
    ledger->create(*record, true);  // before anything exists (fsynced: a container outlives a reboot)
    ledger->note_parent(parent_);
    crash_point("spawn-after-intent");
  }
  auto started = Clock::now();
  bool made = false;
  try {
    note_created(make_parent(parent_, host_.hierarchy.mount));
    Cgroup::create(parent_, ref.name);
    made = true;
    if (record) {
      record->resources[2].state = "created";
      ledger->update(*record, true);
    }
    crash_point("spawn-after-cgroup");
    start_container(spec, ref);
    if (record) record_started(*record, ref, 0);
    crash_point("spawn-after-launch");
    Launched logs = start_podman({"logs", "-f", ref.id}, spec.stdout_fd, spec.stderr_fd);
    UniqueFd waiter_out;
    Launched waiter = start_podman_piped({"wait", "--interval", "50ms", ref.id}, waiter_out);
    auto task = std::make_unique<PodmanTask>(spec, ref, std::move(logs), std::move(waiter), std::move(waiter_out),
                                             started, prune_dirs());
    if (record) task->attach_record(options_.ledger, std::move(*record), options_.keep_record);
    return task;
  } catch (const Error& e) {
    // A name already in use is someone else's container: never touch it.
    bool ours = made && std::string(e.what()).find("already in use") == std::string::npos;
    if (ours) {
      DestroyOptions now;
      now.grace = Duration::zero();
      ref.keep = false;  // a container that failed to start is never kept
      destroy_container(ref, now);
    } else if (made) {
      ::rmdir(ref.task_cgroup.c_str());
    }
    remove_empty(prune_dirs());
    if (record) ledger->remove(record->id);
    throw;
  }
}

}  // namespace

std::unique_ptr<Spawner> make_podman_backend(const BackendOptions& options) {
  return std::make_unique<PodmanSpawner>(options);
}

Capabilities podman_backend_capabilities(const BackendOptions& options) {
  PodmanHost host = probe_podman_host();
  Capabilities caps;
  caps.backend = "podman";
  caps.usable = host.usable;
  if (!host.usable.available) {
    for (Capability* c : {&caps.kill_all, &caps.verify, &caps.survives_caller_crash, &caps.memory_max,
                          &caps.pids_max, &caps.cpu_max})
      *c = {false, "podman is not usable here"};
    return caps;
  }
  caps.kill_all = {true, "podman rm -f -t GRACE (stop -t with --keep-container); where podman fails or lies, "
                         "cgroup.kill on the container's cgroup2 node under cgspawn's own parent"};
  caps.verify = {true, "cgspawn's own checks, not podman's exit status: `podman container exists` says no, the "
                       "container's cgroup2 node is empty (populated 0) and removed, conmon (pid + start time) "
                       "has exited; the empty v1 cgroup dirs podman leaves are removed"};
  if (options.ledger)
    caps.survives_caller_crash = {true, "the container, its conmon and its cgroup are recorded in the ledger " +
                                            options.ledger->dir() + " before they exist: `cgspawn reap` destroys them"};
  else
    caps.survives_caller_crash = {false, "no ledger given: a container whose caller dies keeps running and "
                                         "nothing records it"};
  caps.memory_max = podman_limit_capability(host, "memory");
  caps.pids_max = podman_limit_capability(host, "pids");
  caps.cpu_max = podman_limit_capability(host, "cpu");
  return caps;
}

}  // namespace cgspawn
