// SPDX-License-Identifier: MIT
#include "backends/remote/remote_probe.hpp"

#include <sys/wait.h>

#include "backends/remote/agent_script.hpp"
#include "backends/remote/cgspawn_reports.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/ssh_process.hpp"
#include "hang/hang_report.hpp"
#include "storage/scratch.hpp"

namespace cgspawn::remote {

RemoteFacts probe_remote(const SshTarget& target) {
  RemoteFacts f;
  std::string mark = make_mark();
  try {
    auto deadline = Clock::now() + std::chrono::seconds(kConnectTimeout + 10);
    SshOutput r = run_ssh(ssh_argv(target, Mux::none, "", agent_command(mark, "probe", {})), deadline);
    for (const auto& m : find_markers(r.out, mark)) {
      if (m.word == "CGSPAWN-BACKENDS") f.cgspawn_process = remote_process_capabilities(m.text);
      if (m.word != "PROBE") continue;
      f.reached = true;
      f.host = m.field("host");
      f.cgroup2 = m.field("cgroup2");
      f.kernel = m.field("kernel");
      f.boot_id = m.field("boot_id");
      f.uid = m.field("uid");
      f.writable = m.field("writable") == "yes";
      f.systemd = m.field("systemd") == "yes";
      f.cgspawn = m.field("cgspawn") == "none" ? "" : m.field("cgspawn");
      f.tools = m.field("tools") == "yes";
      f.controllers = m.field("controllers");
    }
    if (!f.reached) f.error = one_line(r.err).empty() ? "no answer from the remote agent" : one_line(r.err);
  } catch (const std::exception& e) {
    f.error = e.what();
  }
  return f;
}

namespace {

bool listed(const std::string& controllers, const std::string& name) {
  return ("," + controllers + ",").find("," + name + ",") != std::string::npos;
}

// A limit is set through the controller enabled in the remote's root cgroup (a unit's slice
// and cgspawn-remote alike get their controllers from there), or as the installed cgspawn says.
Capability limit_capability(const RemoteFacts& f, const std::string& controller,
                            const std::string& property) {
  if (f.cgspawn_path()) {
    if (!f.cgspawn_process)
      return {false, "the cgspawn installed on " + f.host +
                         " did not say (`cgspawn backends --json`): left to it at spawn"};
    const Capabilities& c = *f.cgspawn_process;
    const Capability& there = controller == "memory" ? c.memory_max
                              : controller == "pids" ? c.pids_max
                                                     : c.cpu_max;
    return {there.available, "the cgspawn installed on " + f.host + ": " + there.reason};
  }
  if (listed(f.controllers, controller))
    return {true, f.unit_path()
                      ? "the unit property " + property + ", read back from cgroupfs before the task runs"
                      : controller + " enabled in " + f.cgroup2 +
                            "/cgspawn-remote, the limit written to the task cgroup"};
  return {false, "the " + controller + " controller is not enabled in " + f.cgroup2 + " on the remote (" +
                     f.host + " has '" + (f.controllers == "-" ? "" : f.controllers) +
                     "'): refused at spawn"};
}

}  // namespace

bool RemoteFacts::unit_path() const {
  return systemd && uid == "0";
}
bool RemoteFacts::cgspawn_path() const {
  return !unit_path() && !cgspawn.empty();
}

namespace {

std::string boundary_of(const RemoteFacts& f, const std::string& host) {
  if (f.unit_path()) return "a transient scope cgspawn-<origin>-<id>.scope made by systemd-run on " + host;
  if (f.cgspawn_path())
    return "the boundary the cgspawn installed on " + host + " (version " + f.cgspawn +
           ") makes with `cgspawn run`" +
           (f.cgspawn_process ? " (its process backend: " + f.cgspawn_process->usable.reason + ")" : "");
  return "a task cgroup under " + f.cgroup2 + "/cgspawn-remote on " + host + ", made by the built-in agent";
}

}  // namespace

Capabilities capabilities_from(const SshTarget& target, const RemoteFacts& f, bool ledger, bool lease) {
  Capabilities caps;
  caps.backend = "remote";
  std::string host = target.display();
  if (!f.reached) {
    caps.usable = {false, "cannot reach " + host + ": " + f.error};
    return caps;
  }
  std::string found = "systemd-run with systemd as PID 1: " + std::string(f.systemd ? "yes" : "no") +
                      "; uid " + f.uid + "; cgspawn installed: " + (f.cgspawn.empty() ? "no" : f.cgspawn) +
                      "; cgroup2: " + f.cgroup2 + (f.writable ? " (writable)" : " (not writable)") +
                      "; kernel " + f.kernel;
  bool raw_ok = f.cgroup2 != "none" && f.writable;
  bool cgspawn_ok = f.cgspawn_path() && (!f.cgspawn_process || f.cgspawn_process->usable.available);
  bool ok = f.cgroup2 != "none" && f.tools && (f.unit_path() || cgspawn_ok || (!f.cgspawn_path() && raw_ok));
  caps.usable = {ok, (ok ? boundary_of(f, host) + " (remote " + f.host + "); "
                         : "cgspawn cannot contain tasks on " + host +
                               ": it needs cgroup2, dd(1) and sleep(1), and systemd-run as root, a usable "
                               "installed cgspawn, or a "
                               "writable cgroup2; ") +
                         "found: " + found +
                         (f.cgspawn_path() && f.cgspawn_process && !cgspawn_ok
                              ? " (the installed cgspawn: " + f.cgspawn_process->usable.reason + ")"
                              : "")};
  if (!ok) return caps;
  caps.kill_all = {
      true, f.cgspawn_path()
                ? "`cgspawn destroy` on the remote (the kill of its backend there)"
                : "cgroup.kill on the remote task's cgroup (freeze + SIGKILL each + thaw before Linux 5.14)"};
  caps.verify = {
      true, std::string("a second ssh session waits for \"populated 0\" and ") +
                (f.unit_path()      ? "for systemd to unload the unit and remove its cgroup"
                 : f.cgspawn_path() ? "runs `cgspawn destroy` there, then checks the cgroup is gone itself"
                                    : "removes the cgroup") +
                "; an unreachable host makes the row not-guaranteed within " +
                std::to_string(kConnectTimeout + 3) + "s"};
  if (ledger && lease)
    caps.survives_caller_crash = {
        true,
        "the remote agent kills the task when its connection is gone or silent for the "
        "lease; the ledger keeps host and boundary for `cgspawn reap` to verify"};
  else
    caps.survives_caller_crash = {
        false, ledger ? "--lease none: a task whose caller dies keeps running on the remote until reaped"
                      : "no ledger: nothing records the remote task for reap"};
  caps.lineage = {false,
                  "processes on the remote host are not followed by descent: one that leaves the remote "
                  "task cgroup or unit is not found"};
  caps.memory_max = limit_capability(f, "memory", "MemoryMax");
  caps.pids_max = limit_capability(f, "pids", "TasksMax");
  caps.cpu_max = limit_capability(f, "cpu", "CPUQuota");
  caps.scratch = {true, "made and removed on " + host + " by the agent (under " + kDefaultScratchRoot +
                            ", --scratch-root); after a partition, `cgspawn reap` removes it"};
  Capability isolation = f.uid == "0"
                             ? Capability{true, "unshare(1) on " + host + ", run by the task's wrapper"}
                             : Capability{false, "needs root on " + host + " (uid " + f.uid + ")"};
  caps.hang_report = hang_report_capability(f.cgroup2 != "none", "read on " + host + " by the agent");
  caps.usage = {false, "not read on a remote host: only the exit status comes back"};
  caps.private_tmp = isolation;
  caps.private_ipc = isolation;
  if (isolation.available) {
    caps.private_tmp.reason += ": empty tmpfs on /tmp, /var/tmp and /dev/shm";
    caps.private_ipc.reason += ": an IPC namespace of the task's own";
  }
  return caps;
}

}  // namespace cgspawn::remote
