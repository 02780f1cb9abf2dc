// SPDX-License-Identifier: MIT
// The systemd backend on the user bus, as the real non-root user cgtest (uid 1500, lingering)
// with its own user manager (needs the guest's multi-user boot): `cgspawn run --backend systemd
// --user` contains a setsid daemon, and limits the user manager was delegated are read back.
#include <doctest/doctest.h>
#include <unistd.h>

#include <csignal>

#include "host.hpp"
#include "systemd_support.hpp"

using namespace cgsd;

namespace {

// A directory cgtest owns, removed afterwards.
class UserDir {
 public:
  UserDir() {
    path_ = sh("mktemp -d /tmp/cgsd-user.XXXXXX").out;
    path_.pop_back();
    sh("chown cgtest: " + path_);
  }
  ~UserDir() { sh("rm -rf " + path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string kUserService = "/sys/fs/cgroup/user.slice/user-1500.slice/user@1500.service";

// cgtest's user manager restarted with only `controllers` delegated to it (a drop-in for
// user@1500.service), as a host that delegates less than Debian does; restored when it goes.
class DelegateOnly {
 public:
  explicit DelegateOnly(const std::string& controllers) {
    REQUIRE(sh("mkdir -p " + kDropIn + " && printf '[Service]\\nDelegate=\\nDelegate=" + controllers +
               "\\n' > " + kDropIn + "/cgspawn-test.conf")
                .status == 0);
    restart();
    std::string now = controllers_now();
    if (now != controllers) undo();  // the destructor of an object not made does not run
    REQUIRE(now == controllers);
  }
  ~DelegateOnly() { undo(); }
  static std::string controllers_now() {
    std::string text = cgtest::read_text(kUserService + "/cgroup.controllers").value_or("");
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

 private:
  static void undo() {
    sh("rm -f " + kDropIn + "/cgspawn-test.conf; rmdir " + kDropIn + " 2>/dev/null");
    restart();
  }
  static void restart() {
    sh("systemctl daemon-reload && systemctl restart user@1500.service");
    CHECK(cgtest::eventually([] { return cgtest::exists("/run/user/1500/bus"); }, scaled(30s)));
  }
  static inline const std::string kDropIn = "/run/systemd/system/user@1500.service.d";
};

Shell run_as_user(const UserDir& dir, const std::string& args) {
  return sh(as_cgtest("CGSPAWN_STATE_DIR=" + dir.path() + "/state " + cgtest::built_program("CGSPAWN_BIN") +
                      " run -q --backend systemd --user --result " + dir.path() + "/result.json " + args));
}

}  // namespace

TEST_CASE("systemd user manager: cgtest's task runs in its own scope; a setsid daemon is destroyed") {
  REQUIRE_MESSAGE(cgtest::exists("/run/user/1500/bus"),
                  "no user bus for cgtest: the guest must boot multi-user (run-in-guest.sh --multi-user)");
  UserDir dir;
  std::string pids = dir.path() + "/pids";
  Shell r = run_as_user(dir,
                        "--id sd-user --grace 2s -- /bin/sh -c '"
                        "( setsid /bin/sh -c \"sleep 1000 & echo \\$! > " +
                            pids +
                            "; wait\" & ); "
                            "while [ ! -s " +
                            pids +
                            " ]; do sleep 0.05; done; "
                            "cat /proc/self/cgroup > " +
                            dir.path() + "/cgroup'");
  CAPTURE(r.out);
  CHECK(r.status == 0);
  std::string cgroup = cgtest::read_text(dir.path() + "/cgroup").value_or("");
  CHECK(cgroup.find("/user@1500.service/") != std::string::npos);
  CHECK(cgroup.find("/cgspawn-sd-user.scope") != std::string::npos);
  std::string json = cgtest::read_text(dir.path() + "/result.json").value_or("");
  CAPTURE(json);
  CHECK(json.find("\"outcome\": \"destroyed\"") != std::string::npos);
  CHECK(json.find("cgspawn-sd-user.scope") != std::string::npos);
  auto daemon = cgtest::identify(cgtest::read_pids(pids));
  CHECK(cgtest::still_alive(daemon, scaled(10s)).empty());
  CHECK(unit_gone("cgspawn-sd-user.scope", true));
  CHECK(sh("test -e "
           "/sys/fs/cgroup/user.slice/user-1500.slice/user@1500.service/app.slice/cgspawn-sd-user.scope")
            .status != 0);
}

TEST_CASE("systemd user manager: delegated limits are read back; one it was not delegated is refused") {
  REQUIRE(cgtest::exists("/run/user/1500/bus"));
  UserDir dir;
  // Debian delegates cpu, memory and pids to user managers: cpu is taken away here, so that a
  // limit the manager silently drops is seen on every run.
  DelegateOnly delegated("memory pids");
  Shell ok = run_as_user(dir,
                         "--id sd-user-pids --pids-max 20 -- /bin/sh -c 'cat /sys/fs/cgroup$(sed -n "
                         "s/^0:://p /proc/self/cgroup)/pids.max'");
  CAPTURE(ok.out);
  CHECK(ok.status == 0);
  CHECK(ok.out.find("21") != std::string::npos);  // 20 + cgspawn's anchor
  Shell refused = run_as_user(dir, "--id sd-user-cpu --cpu-max 50 -- /bin/true");
  CAPTURE(refused.out);
  CHECK(refused.status == 125);
  CHECK(refused.out.find("CPUQuotaPerSecUSec=500000 did not take") != std::string::npos);
  CHECK(refused.out.find("cpu.max does not exist (the controller is not delegated to the user manager)") !=
        std::string::npos);
  CHECK(unit_gone("cgspawn-sd-user-cpu.scope", true));
}

TEST_CASE(
    "systemd user manager: a SIGTERM ignorer is killed after the grace; reap after the caller's SIGKILL") {
  REQUIRE(cgtest::exists("/run/user/1500/bus"));
  UserDir dir;
  Shell timed_out = run_as_user(
      dir, "--id sd-user-term --timeout 2s --grace 1s -- /bin/sh -c 'trap \"\" TERM; sleep 1000 & wait'");
  CAPTURE(timed_out.out);
  CHECK(timed_out.status == 124);
  CHECK(unit_gone("cgspawn-sd-user-term.scope", true));

  // A cgspawn run of cgtest's, killed with SIGKILL: the scope outlives it, cgtest's reap ends it.
  std::string pids = dir.path() + "/pids", state = dir.path() + "/state";
  sh(as_cgtest("sh -c 'CGSPAWN_STATE_DIR=" + state + " " + cgtest::built_program("CGSPAWN_BIN") +
               " run --backend systemd --user --id sd-user-orphan -- /bin/sh -c \"sleep 1000 & echo \\$! > " +
               pids + "; wait\" >/dev/null 2>&1 & echo $! > " + dir.path() + "/run.pid'"));
  REQUIRE(cgtest::wait_for_lines(pids, 1, scaled(120s)));
  auto sleeper = cgtest::identify(cgtest::read_pids(pids));
  auto run_pid = cgtest::read_pids(dir.path() + "/run.pid");
  REQUIRE(run_pid.size() == 1);
  ::kill(run_pid[0], SIGKILL);
  CHECK(unit_property("cgspawn-sd-user-orphan.scope", "ActiveState", true) == "active");
  Shell reaped = sh(as_cgtest("env CGSPAWN_STATE_DIR=" + state + " " + cgtest::built_program("CGSPAWN_BIN") +
                              " reap --grace 1s"));
  CAPTURE(reaped.out);
  CHECK(reaped.status == 0);
  CHECK(cgtest::still_alive(sleeper, scaled(10s)).empty());
  CHECK(cgtest::eventually([] { return unit_gone("cgspawn-sd-user-orphan.scope", true); }, scaled(30s)));
}
