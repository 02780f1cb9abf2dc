// SPDX-License-Identifier: MIT
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

#include "backends/backend_rows.hpp"
#include "backends/podman/podman_boundary.hpp"
#include "backends/podman/podman_cli.hpp"
#include "backends/podman/podman_host.hpp"
#include "backends/spec_checks.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/parent.hpp"
#include "cgroup/usage.hpp"
#include "cgspawn/error.hpp"
#include "cgspawn/process_spawner.hpp"
#include "hang/hang_report.hpp"
#include "storage/scratch.hpp"
#include "task/names.hpp"
#include "task/spawn_transaction.hpp"
#include "util/crash_point.hpp"
#include "util/file_io.hpp"
#include "util/proc_info.hpp"

namespace cgspawn {
namespace {

using namespace std::chrono_literals;

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
  ContainerRef ref_for(const TaskSpec& spec) const;
  std::vector<std::string> run_args(const TaskSpec& spec, const ContainerRef& ref) const;
  std::vector<ResourceRecord> intended(const ContainerRef& ref) const;
  std::optional<ContainerLogFile> start_container(const TaskSpec& spec, ContainerRef& ref) const;

  BackendOptions options_;
  PodmanHost host_;
  std::string parent_;       // full path of the cgroup2 dir the task nodes go under
  std::string rootfs_;       // absolute
  std::string own_default_;  // the default parent, cgspawn's own (goes when empty); "" when named
};

PodmanSpawner::PodmanSpawner(const BackendOptions& options) : options_(options), host_(probe_podman_host()) {
  if (!host_.usable.available)
    throw Error(ErrorKind::unsupported, "the podman backend cannot run here: " + host_.usable.reason);
  if (options.image.empty() == options.rootfs.empty())
    throw Error(ErrorKind::invalid_argument,
                "the podman backend needs exactly one of --image IMAGE or --rootfs DIR");
  if (!options.rootfs.empty()) {
    rootfs_ = std::filesystem::absolute(options.rootfs).lexically_normal().string();
    struct stat st {};
    if (::stat(rootfs_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw Error(ErrorKind::invalid_argument, "--rootfs " + options.rootfs + " is not a directory");
  }
  parent_ = options.parent.empty() ? default_parent() : options.parent;
  check_parent_path(parent_, host_.hierarchy.mount);
  // cgspawn's own default parent goes when empty; one named by $CGSPAWN_PARENT is the user's.
  const char* env_parent = std::getenv("CGSPAWN_PARENT");
  if (options.parent.empty() && !(env_parent && *env_parent)) own_default_ = parent_;
}

Capabilities PodmanSpawner::capabilities() const {
  return podman_backend_capabilities(options_);
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
  std::vector<std::string> a = {"run",
                                "-d",
                                "--pull=never",
                                "--network=none",
                                "--name",
                                ref.name,
                                "--cgroup-parent",
                                ref.cgroup_parent,
                                "--label",
                                "cgspawn.task=" + spec.id};
  const Limits& l = spec.limits;
  if (l.memory_max_bytes) {
    std::string bytes = std::to_string(*l.memory_max_bytes);
    a.insert(a.end(), {"--memory", bytes, "--memory-swap", bytes});  // no swap, as memory.swap.max = 0
  }
  if (l.pids_max) a.insert(a.end(), {"--pids-limit", std::to_string(*l.pids_max)});
  if (l.cpu_max_percent) a.insert(a.end(), {"--cpus", cpus(*l.cpu_max_percent)});
  for (const auto& e : spec.env) a.insert(a.end(), {"--env", e});
  // The scratch directory at the same path inside ($CGSPAWN_SCRATCH means the same there).
  if (spec.scratch) a.insert(a.end(), {"--volume", scratch_path(spec) + ":" + scratch_path(spec)});
  if (spec.private_tmp)  // /dev/shm is the container's own already
    a.insert(a.end(), {"--tmpfs", "/tmp:rw,mode=1777", "--tmpfs", "/var/tmp:rw,mode=1777"});
  if (spec.private_ipc) a.push_back("--ipc=private");
  if (!spec.cwd.empty()) a.insert(a.end(), {"--workdir", spec.cwd});  // a path inside the container
  if (!rootfs_.empty())
    a.insert(a.end(), {"--rootfs", rootfs_ + ":O"});  // overlay: DIR is never written
  else
    a.push_back(options_.image);
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

std::vector<ResourceRecord> PodmanSpawner::intended(const ContainerRef& ref) const {
  return {
      {{ResourceKind::container, ref.name}, ResourceState::intended, ref.attributes()},
      {{ResourceKind::conmon, "(not started)"}, ResourceState::intended, {{"task_cgroup", ref.task_cgroup}}},
      {{ResourceKind::cgroup, ref.task_cgroup}, ResourceState::intended, {}}};
}

// Starts the container; fills in podman's id and conmon (pid + start time). conmon's pid comes
// from --conmon-pidfile, not from inspect: a container that has already exited shows
// ConmonPid 0, and one podman call less is ~50 ms. The container's cgroup is where podman
// puts it under an absolute --cgroup-parent: <parent>/libpod-<ID>, in every hierarchy.
// Returns the file conmon writes the container's output to (container_log.hpp), unless the
// container is kept: its log must outlive us, so it stays podman's own.
std::optional<ContainerLogFile> PodmanSpawner::start_container(const TaskSpec& spec,
                                                               ContainerRef& ref) const {
  std::string pidfile = (options_.ledger ? options_.ledger->task_dir(spec.id) : std::string("/tmp")) + "/" +
                        ref.name + ".conmon.pid";
  std::vector<std::string> args = run_args(spec, ref);
  args.insert(args.begin() + 1, {"--conmon-pidfile", pidfile});
  std::optional<ContainerLogFile> log;
  if (!options_.keep_container) {
    log = ContainerLogFile::create();
    // Never capped: conmon enforces a cap (containers.conf's log_size_max) by renaming the
    // file, which has no name, and then dies. 1000tb is podman's word for "no cap" here (it
    // refuses -1; 0 means the configuration's); the blocks passed on are punched out anyway.
    args.insert(args.begin() + 1, {"--log-driver", "k8s-file", "--log-opt", "path=" + log->path_for_podman(),
                                   "--log-opt", "max-size=1000tb"});
  }
  PodmanOutput run = run_podman(args, 120s);
  auto pid_text = read_file(pidfile);
  ::unlink(pidfile.c_str());
  if (!run.ok())
    throw Error(ErrorKind::unsupported,
                "podman could not start container " + ref.name + ": " + run.error_text());
  ref.id = first_word(run.out);
  ref.container_cgroup = ref.cgroup_parent + "/libpod-" + ref.id;
  ref.conmon_pid = pid_text ? std::atoi(pid_text->c_str()) : 0;
  // Read at once: if conmon has already gone, start 0 never matches, and it counts as gone.
  if (ref.conmon_pid > 0) ref.conmon_start = process_start_time(ref.conmon_pid).value_or(0);
  return log;
}

// The container runs: the record names podman's id and conmon (pid + start time).
void record_started(TaskRecord& record, const ContainerRef& ref) {
  record.resources[0].resource.id = ref.id;
  record.resources[0].state = ResourceState::created;
  record.resources[0].attributes = ref.attributes();
  if (ref.conmon_pid > 0) {
    record.resources[1].resource.id = std::to_string(ref.conmon_pid);
    record.resources[1].state = ResourceState::created;
    record.resources[1].attributes["pid"] = std::to_string(ref.conmon_pid);
    record.resources[1].attributes["start_time"] = std::to_string(ref.conmon_start);
  }
  record.resources[2].attributes["container_cgroup"] = ref.container_cgroup;
}

// podman refusing the name: a container of that name exists, and it is someone else's.
bool name_in_use(const Error& e) {
  return std::string(e.what()).find("already in use") != std::string::npos;
}

std::unique_ptr<Task> PodmanSpawner::spawn(const TaskSpec& input) {
  TaskSpec spec = prepared_spec(input);
  check_podman_limits(host_, spec.limits);
  ContainerRef ref = ref_for(spec);
  // Fsynced: a container outlives a reboot of this machine.
  SpawnTransaction txn(recording_of(options_, true), spec, "podman", intended(ref));
  if (txn.ledger()) txn.ledger()->note_parent(parent_);
  auto started = Clock::now();
  ParentPruning pruning{host_.hierarchy.mount, own_default_};
  txn.on_unwind([this, pruning] { prune_parents(parent_, pruning); });
  make_parent(parent_, host_.hierarchy.mount);
  Cgroup::create(parent_, ref.name);
  auto& boundary = txn.adopt(std::make_unique<PodmanBoundary>(ref, pruning));
  txn.record().resources[2].state = ResourceState::created;
  txn.save();
  attach_local_scratch(txn, spec);
  crash_point("spawn-after-cgroup");
  boundary.container_may_exist(true);
  std::optional<ContainerLogFile> log;
  try {
    log = start_container(spec, boundary.ref());
  } catch (const Error& e) {
    if (name_in_use(e)) boundary.container_may_exist(false);
    throw;
  }
  record_started(txn.record(), boundary.ref());
  boundary.follow(std::move(log), spec.stdout_fd, spec.stderr_fd, options_.keep_container);
  return txn.commit(std::move(spec), started);
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
    for (Capability* c : caps.guarantees()) *c = {false, "podman is not usable here"};
    return caps;
  }
  caps.kill_all = {true,
                   "podman rm -f -t GRACE (stop -t with --keep-container); where podman fails or lies, "
                   "cgroup.kill on the container's cgroup2 node under cgspawn's own parent"};
  caps.verify = {true,
                 "cgspawn's own checks, not podman's exit status: `podman container exists` says no, the "
                 "container's cgroup2 node is empty (populated 0) and removed, conmon (pid + start time) "
                 "has exited; the empty v1 cgroup dirs podman leaves are removed"};
  if (options.ledger)
    caps.survives_caller_crash = {
        true, "the container, its conmon and its cgroup are recorded in the ledger " + options.ledger->dir() +
                  " before they exist: `cgspawn reap` destroys them"};
  else
    caps.survives_caller_crash = {false,
                                  "no ledger given: a container whose caller dies keeps running and "
                                  "nothing records it"};
  caps.lineage = {true, "not needed: the container's PID namespace bounds its processes (none can leave it)"};
  caps.memory_max = podman_limit_capability(host, "memory");
  caps.pids_max = podman_limit_capability(host, "pids");
  caps.cpu_max = podman_limit_capability(host, "cpu");
  Capability local = local_scratch_capability();
  caps.scratch = {true, local.reason + "; mounted into the container at the same path, removed after it"};
  caps.private_tmp = {true, "tmpfs on /tmp and /var/tmp (--tmpfs); /dev/shm is the container's own already"};
  caps.private_ipc = {true, "an IPC namespace of the container's own (--ipc=private)"};
  caps.hang_report = hang_report_capability(true, "the container's cgroup2 node");
  caps.usage = usage_capability(options.parent.empty() ? host.hierarchy.mount : options.parent);
  return caps;
}

}  // namespace cgspawn
