#include "backends/remote/remote_probe.hpp"

#include <sys/wait.h>

#include "backends/remote/agent_script.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/ssh_process.hpp"

namespace cgspawn::remote {

RemoteFacts probe_remote(const SshTarget& target) {
  RemoteFacts f;
  std::string mark = make_mark();
  try {
    auto deadline = Clock::now() + std::chrono::seconds(kConnectTimeout + 10);
    SshOutput r = run_ssh(ssh_argv(target, Mux::none, "", agent_command(mark, "probe", {})), deadline);
    for (const auto& m : find_markers(r.out, mark)) {
      if (m.word != "PROBE") continue;
      f.reached = true;
      f.host = m.field("host");
      f.cgroup2 = m.field("cgroup2");
      f.kernel = m.field("kernel");
      f.boot_id = m.field("boot_id");
      f.uid = m.field("uid");
      f.writable = m.field("writable") == "yes";
      f.systemd = m.field("systemd") == "yes";
      f.cgspawn = m.field("cgspawn") == "yes";
      f.timeout = m.field("timeout") == "yes";
    }
    if (!f.reached) f.error = one_line(r.err).empty() ? "no answer from the remote agent" : one_line(r.err);
  } catch (const std::exception& e) {
    f.error = e.what();
  }
  return f;
}

Capabilities capabilities_from(const SshTarget& target, const RemoteFacts& f, bool ledger, bool lease) {
  Capabilities caps;
  caps.backend = "remote";
  std::string host = target.display();
  if (!f.reached) {
    caps.usable = {false, "cannot reach " + host + ": " + f.error};
    return caps;
  }
  std::string found = "systemd-run with systemd as PID 1: " + std::string(f.systemd ? "yes" : "no") +
                      "; cgspawn installed: " + (f.cgspawn ? "yes" : "no") + "; cgroup2: " + f.cgroup2 +
                      (f.writable ? " (writable)" : " (not writable)") + "; kernel " + f.kernel;
  bool agent_ok = f.cgroup2 != "none" && f.writable && f.timeout;
  caps.usable = {agent_ok, (agent_ok ? "built-in POSIX-sh agent on " + host + " (remote " + f.host + "), a task cgroup under " +
                                           f.cgroup2 + "/cgspawn-remote; "
                                     : "the built-in agent cannot run on " + host + ": it needs a writable cgroup2 and timeout(1); ") +
                               "found: " + found +
                               (f.systemd || f.cgspawn ? " (this build uses the built-in agent on every remote)" : "")};
  if (!agent_ok) return caps;
  caps.kill_all = {true, "cgroup.kill on the remote task cgroup (freeze + SIGKILL each + thaw before Linux 5.14)"};
  caps.verify = {true, "a second ssh session waits for \"populated 0\" and removes the cgroup; an unreachable host "
                       "makes the row not-guaranteed within " + std::to_string(kConnectTimeout + 3) + "s"};
  if (ledger && lease)
    caps.survives_caller_crash = {true, "the remote agent kills the task when its connection is gone or silent for the "
                                        "lease; the ledger keeps host and cgroup for `cgspawn reap` to verify"};
  else
    caps.survives_caller_crash = {false, ledger ? "--lease none: a task whose caller dies keeps running on the remote until reaped"
                                                : "no ledger: nothing records the remote task for reap"};
  Capability none{false, "the built-in agent does not set limits on the remote (refused at spawn)"};
  caps.memory_max = caps.pids_max = caps.cpu_max = none;
  return caps;
}

}  // namespace cgspawn::remote
