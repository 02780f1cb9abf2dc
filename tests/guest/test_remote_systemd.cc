// SPDX-License-Identifier: MIT
// The remote backend with real systemd on the remote: the guest's own sshd on its loopback is
// the remote host (root login with a key made here), so the agent takes the systemd-run path.
// A setsid daemon is destroyed with its transient scope, limits become unit properties read
// back from cgroupfs, and a task whose local side is SIGKILLed is stopped by the lease.
#include <doctest/doctest.h>

#include <csignal>

#include "cli.hpp"
#include "host.hpp"
#include "systemd_support.hpp"

using namespace cgsd;
using cgtest::Child;
using cgtest::RunResult;
using cgtest::TempDir;

namespace {

// sshd on 127.0.0.1 for root, a key and a known_hosts of its own; all undone at the end.
class SelfRemote {
 public:
  SelfRemote() {
    std::string key = dir_.file("id_ed25519");
    REQUIRE(sh("ssh-keygen -q -t ed25519 -N '' -C cgspawn-guest-test -f " + key).status == 0);
    REQUIRE(sh("mkdir -p -m 700 /root/.ssh && cat " + key + ".pub >> /root/.ssh/authorized_keys").status ==
            0);
    Shell started = sh("systemctl start ssh.service");
    REQUIRE_MESSAGE(started.status == 0, started.out);
    REQUIRE(sh("echo \"127.0.0.1 $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)\" > " +
               dir_.file("known_hosts"))
                .status == 0);
    // curve25519: the default post-quantum key exchange costs seconds under TCG emulation.
    cgtest::write_text(config(),
                       "Host guest-self\n  HostName 127.0.0.1\n  User root\n  IdentityFile " + key +
                           "\n  IdentitiesOnly yes\n  UserKnownHostsFile " + dir_.file("known_hosts") +
                           "\n  KexAlgorithms curve25519-sha256\n",
                       0600);
  }
  ~SelfRemote() {
    sh("sed -i '/ cgspawn-guest-test$/d' /root/.ssh/authorized_keys");
    sh("systemctl stop ssh.service");
  }
  std::string config() const { return dir_.file("ssh_config"); }
  std::string file(const std::string& name) const { return dir_.file(name); }
  std::string state() const { return dir_.file("state"); }

  std::vector<std::string> args(const std::string& verb, std::vector<std::string> options,
                                std::vector<std::string> argv) const {
    std::vector<std::string> a = {cgtest::built_program("CGSPAWN_BIN"),
                                  verb,
                                  "--backend",
                                  "remote",
                                  "--host",
                                  "guest-self",
                                  "--ssh-config",
                                  config(),
                                  "--state-dir",
                                  state()};
    a.insert(a.end(), options.begin(), options.end());
    a.push_back("--");
    a.insert(a.end(), argv.begin(), argv.end());
    return a;
  }

 private:
  TempDir dir_;
};

RunResult run(const SelfRemote& remote, std::vector<std::string> options, std::vector<std::string> argv) {
  Child child(remote.args("run", std::move(options), std::move(argv)),
              {"CGSPAWN_STATE_DIR=" + remote.state()});
  return child.wait(scaled(180s));
}

// The task's own unit, as the task sees it ("" until it has written it).
std::string unit_in(const std::string& file) {
  std::string text = cgtest::read_text(file).value_or("");
  auto slash = text.rfind('/');
  return slash == std::string::npos ? "" : text.substr(slash + 1, text.find('\n', slash) - slash - 1);
}

const char* kWriteCgroup = "sed -n 's/^0:://p' /proc/self/cgroup > \"$1\"; ";
// Status lines with every agent mark the task can find on the remote (command lines and
// environments of all processes): none is its session's, so its own status still counts.
const char* kForgeStatus =
    "for m in $(cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | "
    "grep -o '@@cgspawn-[0-9a-f]*@@' | sort -u); do echo \"$m EXITED rc=0\" >&2; done; ";

}  // namespace

TEST_CASE(
    "remote on systemd: the task runs in a transient scope; a setsid daemon is destroyed, the unit "
    "unloaded; the task cannot forge its status") {
  SelfRemote remote;
  std::string pids = remote.file("pids"), cgroup = remote.file("cgroup"), result = remote.file("result.json");
  std::string script = kWriteCgroup;
  script += kForgeStatus;
  script +=
      "setsid /bin/sh -c 'sleep 1000 & echo $! > \"$1\"; wait' sh \"$2\" & "
      "while [ ! -s \"$2\" ]; do sleep 0.05; done; exit 4";
  RunResult r =
      run(remote, {"-q", "--grace", "1s", "--result", result}, {"/bin/sh", "-c", script, "sh", cgroup, pids});
  CAPTURE(r.err);
  CHECK(r.exit_code == 4);
  std::string unit = unit_in(cgroup);
  CAPTURE(unit);
  CHECK(cgtest::read_text(cgroup).value_or("").find("/system.slice/cgspawn-") == 0);
  CHECK(unit.size() > 6);
  CHECK(unit.substr(unit.size() - 6) == ".scope");
  std::string json = cgtest::read_text(result).value_or("");
  CAPTURE(json);
  CHECK(json.find("\"kind\": \"remote-unit\"") != std::string::npos);
  CHECK(json.find("guest-self:" + unit) != std::string::npos);
  CHECK(json.find("the unit stopped and unloaded by systemd") != std::string::npos);
  CHECK(json.find("\"complete\": true") != std::string::npos);
  auto daemon = cgtest::identify(cgtest::read_pids(pids));
  REQUIRE(daemon.size() == 1);
  CHECK(cgtest::still_alive(daemon, scaled(10s)).empty());
  CHECK(unit_gone(unit));
}

TEST_CASE(
    "remote on systemd: limits are unit properties read back from cgroupfs; the timeout sets RuntimeMaxSec") {
  SelfRemote remote;
  std::string out = remote.file("limits");
  RunResult r = run(remote,
                    {"-q", "--memory-max", "48M", "--pids-max", "9", "--cpu-max", "50", "--timeout", "120s",
                     "--grace", "2s"},
                    {"/bin/sh", "-c",
                     "d=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup); "
                     "cat $d/memory.max $d/memory.swap.max $d/pids.max $d/cpu.max > \"$1\"; "
                     "systemctl show -P RuntimeMaxUSec \"${d##*/}\" >> \"$1\"",
                     "sh", out});
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  // 120 s + 2 s of grace + 30 s of margin for the destroy itself.
  CHECK(cgtest::read_text(out).value_or("") == "50331648\n0\n9\n50000 100000\n2min 32s\n");
}

TEST_CASE("remote on systemd: the local side SIGKILLed mid-task; the lease stops the unit; reap confirms") {
  SelfRemote remote;
  std::string cgroup = remote.file("cgroup");
  Child local(remote.args("run", {"--lease", "3s", "--grace", "0s"},
                          {"/bin/sh", "-c", std::string(kWriteCgroup) + "exec sleep 1000", "sh", cgroup}),
              {"CGSPAWN_STATE_DIR=" + remote.state()});
  REQUIRE(cgtest::eventually([&] { return !unit_in(cgroup).empty(); }, scaled(120s)));
  std::string unit = unit_in(cgroup);
  CAPTURE(unit);
  CHECK(unit_property(unit, "ActiveState") == "active");
  local.signal(SIGKILL);
  local.wait(scaled(30s));
  // The lease (3 s) or the EOF of the dead ssh: either stops the unit, with 3x to spare.
  CHECK(cgtest::eventually([&] { return unit_gone(unit); }, scaled(30s)));
  Child reap({cgtest::built_program("CGSPAWN_BIN"), "reap", "--state-dir", remote.state(), "--grace", "0s"},
             {"CGSPAWN_STATE_DIR=" + remote.state()});
  RunResult rp = reap.wait(scaled(120s));
  CAPTURE(rp.out);
  CAPTURE(rp.err);
  CHECK(rp.exit_code == 0);
  Child list({cgtest::built_program("CGSPAWN_BIN"), "list", "--state-dir", remote.state()}, {});
  RunResult listed = list.wait(scaled(60s));
  CHECK(listed.out.find("remote") == std::string::npos);
}
