// SPDX-License-Identifier: MIT
#include "task_options.hpp"

#include "cgspawn/parse.hpp"

namespace cgspawn::cli {
namespace {

[[noreturn]] void bad_value(const std::string& option, const std::string& value,
                            const std::string& expected) {
  throw CLI::ValidationError(option, "invalid value \"" + value + "\" (" + expected + ")");
}

std::pair<std::string, std::string> key_value(const std::string& option, const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) bad_value(option, text, "expected KEY=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

Limits parse_limits(const TaskOptions& o) {
  Limits limits;
  if (!o.memory_max.empty()) {
    limits.memory_max_bytes = parse_size(o.memory_max);
    if (!limits.memory_max_bytes) bad_value("--memory-max", o.memory_max, "a size such as 512M or 2G");
  }
  if (!o.pids_max.empty()) {
    auto n = parse_size(o.pids_max);
    if (!n || o.pids_max.find_first_not_of("0123456789") != std::string::npos)
      bad_value("--pids-max", o.pids_max, "a whole number of processes, at least 1");
    limits.pids_max = n;
  }
  if (!o.cpu_max.empty()) {
    limits.cpu_max_percent = parse_percent(o.cpu_max);
    if (!limits.cpu_max_percent) bad_value("--cpu-max", o.cpu_max, "a percentage of one CPU, 1 to 100000");
  }
  return limits;
}

}  // namespace

Duration parse_duration_option(const std::string& option, const std::string& value) {
  auto d = parse_duration(value);
  if (!d) bad_value(option, value, "a duration such as 500ms, 30s or 1.5m");
  return *d;
}

const CLI::Validator& non_empty() {
  static const CLI::Validator v(
      [](const std::string& value) {
        return value.empty() ? std::string("an empty value is not allowed") : std::string();
      },
      "NON-EMPTY");
  return v;
}

void add_task_options(CLI::App& app, TaskOptions& o) {
  // Every value option is non_empty(): the empty string stands for "not given" below, so
  // "--timeout ''" or "--memory-max ''" would otherwise be silently ignored (a limit dropped).
  app.add_option("--timeout", o.timeout, "Destroy the task after DURATION (500ms, 30s, 1.5m)")
      ->check(non_empty());
  app.add_option("--grace", o.grace, "SIGTERM to SIGKILL delay on destroy (default 5s)")->check(non_empty());
  app.add_option("--memory-max", o.memory_max, "memory.max of the task cgroup (K/M/G: powers of 1024)")
      ->check(non_empty());
  app.add_option("--pids-max", o.pids_max, "pids.max of the task cgroup")->check(non_empty());
  app.add_option("--cpu-max", o.cpu_max, "CPU quota in percent of one CPU (150 = 1.5 CPUs)")
      ->check(non_empty());
  // One value per occurrence (allow_extra_args(false)): as an unlimited vector, CLI11 would
  // eat the "--" after the last --env/--label as the end of their list, and then parse the
  // program's own options ("-- sh -c ...") as cgspawn's ("unknown option -c").
  app.add_option("--env", o.env, "Set NAME=VALUE in the task's environment (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--chdir", o.chdir, "Working directory of the task")->check(non_empty());
  app.add_option("--label", o.labels, "KEY=VALUE stored with the task and shown in the Result")
      ->allow_extra_args(false);
  app.add_option("--parent", o.parent, "cgroup2 directory under which the task cgroup is made")
      ->check(non_empty());
  app.add_option("--id", o.id, "Task id ([A-Za-z0-9][A-Za-z0-9._-]{0,63}); default: random")
      ->check(non_empty());
  app.add_option("--on-leftovers", o.on_leftovers,
                 "kill (default): destroy and report what the task left; fail: and exit 122 if it left "
                 "anything; report: name it, kill nothing outside the task's boundary");
  app.add_flag("--no-lineage", o.no_lineage,
               "Do not follow the task's processes by descent (processes leaving its cgroup go unseen)");
  app.add_flag("--scratch", o.scratch,
               "Make the task a directory of its own ($CGSPAWN_SCRATCH, and $TMPDIR), removed at destroy");
  app.add_flag("--keep-scratch", o.keep_scratch,
               "Keep the --scratch directory after the task (reported kept)");
  app.add_option("--scratch-root", o.scratch_root,
                 "Where --scratch directories go (default /var/tmp/cgspawn-scratch)")
      ->check(non_empty());
  app.add_flag("--private-tmp", o.private_tmp, "Give the task its own empty /tmp, /var/tmp and /dev/shm");
  app.add_flag("--private-ipc", o.private_ipc,
               "Give the task its own IPC namespace (SysV IPC, message queues)");
  app.add_flag("--no-hang-report", o.no_hang_report,
               "Destroying a running task: do not first describe what its processes were doing");
  app.add_option("--backend", o.backend, "process (default), systemd, podman, remote");
  app.add_flag("--user", o.user_manager, "systemd: the calling user's manager (as systemd-run --user)");
  app.add_option("--unit-type", o.unit_type, "systemd: scope (default) or service");
  app.add_option("--image", o.image, "podman: the image to run");
  app.add_option("--rootfs", o.rootfs, "podman: a root filesystem directory instead of an image");
  app.add_flag("--keep-container", o.keep_container, "podman: stop the container but keep it");
  app.add_option("--host", o.host, "remote: [USER@]HOST[:PORT]");
  app.add_option("--ssh-config", o.ssh_config, "remote: ssh client configuration file");
  app.add_option("--lease", o.lease,
                 "remote: kill the task when the connection is silent this long (default 30s; none)");
  app.add_option("command", o.command, "PROGRAM [ARGS...] (after --)")->required();
}

// An option of another backend is refused by make_spawner, for library callers too.
BackendOptions to_backend_options(const TaskOptions& o) {
  BackendOptions b;
  b.backend = o.backend;
  b.parent = o.parent;
  b.user_manager = o.user_manager;
  b.unit_type = o.unit_type;
  b.image = o.image;
  b.rootfs = o.rootfs;
  b.keep_container = o.keep_container;
  b.host = o.host;
  b.ssh_config = o.ssh_config;
  if (o.lease == "none")
    b.lease.reset();
  else
    b.lease = parse_duration_option("--lease", o.lease);
  return b;
}

TaskSpec to_task_spec(const TaskOptions& o) {
  TaskSpec spec;
  spec.argv = o.command;
  spec.cwd = o.chdir;
  spec.id = o.id;
  if (!o.id.empty() && !valid_task_id(o.id)) bad_value("--id", o.id, "use [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  for (const auto& e : o.env) {
    key_value("--env", e);
    spec.env.push_back(e);
  }
  for (const auto& l : o.labels) spec.labels.insert(key_value("--label", l));
  if (!o.timeout.empty()) {
    spec.timeout = parse_duration_option("--timeout", o.timeout);
    if (spec.timeout->count() == 0) bad_value("--timeout", o.timeout, "must be longer than 0");
  }
  spec.grace = parse_duration_option("--grace", o.grace);
  spec.limits = parse_limits(o);
  auto policy = parse_leftovers_policy(o.on_leftovers);
  if (!policy) bad_value("--on-leftovers", o.on_leftovers, "use kill, fail or report");
  spec.on_leftovers = *policy;
  spec.track_lineage = !o.no_lineage;
  spec.scratch = o.scratch;
  spec.keep_scratch = o.keep_scratch;
  spec.scratch_root = o.scratch_root;
  spec.private_tmp = o.private_tmp;
  spec.private_ipc = o.private_ipc;
  spec.hang_report = !o.no_hang_report;
  return spec;
}

}  // namespace cgspawn::cli
