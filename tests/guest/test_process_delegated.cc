// SPDX-License-Identifier: MIT
// The process backend on a systemd host, with no parent named: systemd hands cgspawn a scope
// with Delegate=yes and the task cgroups are made inside it, never in cgroups systemd owns,
// as root. Limits work there with the controllers systemd delegated; the scope is gone when
// `run` returns. A user runs cgspawn inside a delegated scope of its own, as the docs say.
#include <doctest/doctest.h>

#include "cli.hpp"
#include "host.hpp"
#include "systemd_support.hpp"

using namespace cgsd;
using cgtest::TempDir;

namespace {

// A task that writes its cgroup and its limits, and leaves a setsid daemon behind.
std::string probe_script(const std::string& dir) {
  return "/bin/sh -c 'c=$(sed -n \"s/^0:://p\" /proc/self/cgroup); echo $c > " + dir +
         "/cgroup; "
         "cat /sys/fs/cgroup$c/memory.max /sys/fs/cgroup$c/pids.max > " +
         dir +
         "/limits; "
         "setsid /bin/sh -c \"sleep 1000 & echo \\$! > " +
         dir +
         "/pids; wait\" & "
         "while [ ! -s " +
         dir + "/pids ]; do sleep 0.05; done'";
}

// The delegated scope in a cgroup path ("" when there is none).
std::string scope_of(const std::string& cgroup) {
  auto start = cgroup.find("/cgspawn--process-");
  if (start == std::string::npos) return "";
  auto end = cgroup.find(".scope/", start);
  return end == std::string::npos ? "" : cgroup.substr(start + 1, end + 6 - start - 1);
}

void check_task(const std::string& dir, const std::string& slice, const std::string& id) {
  std::string cgroup = cgtest::read_text(dir + "/cgroup").value_or("");
  CAPTURE(cgroup);
  CHECK(cgroup.find(slice + "/cgspawn--process-") == 0);
  CHECK(cgroup.find(".scope/cgspawn-" + id + "\n") != std::string::npos);
  CHECK(cgtest::read_text(dir + "/limits").value_or("") == "33554432\n20\n");
  auto daemon = cgtest::identify(cgtest::read_pids(dir + "/pids"));
  REQUIRE(daemon.size() == 1);
  CHECK(cgtest::still_alive(daemon, scaled(10s)).empty());
  std::string scope = scope_of(cgroup);
  REQUIRE_FALSE(scope.empty());
  // Gone when `run` returned: stopped and verified unloaded by cgspawn, not left for systemd
  // to collect later.
  CHECK(unit_gone(scope));
  CHECK(sh("systemctl list-units 'cgspawn--process-*' --all --plain --no-legend").out.empty());
}

}  // namespace

TEST_CASE("process backend on systemd as root: task cgroups in a delegated scope of the system manager") {
  TempDir dir;
  Shell r = sh("env -u CGSPAWN_PARENT CGSPAWN_STATE_DIR=" + dir.file("state") + " " +
               cgtest::built_program("CGSPAWN_BIN") +
               " run -q --id pd-root --memory-max 32M --pids-max 20 -- " + probe_script(dir.path()));
  CAPTURE(r.out);
  CHECK(r.status == 0);
  check_task(dir.path(), "/system.slice", "pd-root");
  CHECK_FALSE(cgtest::exists("/sys/fs/cgroup/cgspawn"));  // nothing of cgspawn's in the root cgroup
}

TEST_CASE(
    "process backend as cgtest inside its own delegated scope: task cgroups below it, not in systemd's") {
  REQUIRE_MESSAGE(cgtest::exists("/run/user/1500/bus"),
                  "no user bus for cgtest: the guest must boot multi-user");
  std::string dir = sh("mktemp -d /tmp/cgsd-pd.XXXXXX").out;
  dir.pop_back();
  sh("chown cgtest: " + dir);
  // As the docs tell a user: cgspawn inside a scope of the user manager with Delegate=yes.
  Shell r = sh(as_cgtest(
      "systemd-run --user --quiet --scope -p Delegate=yes -- env -u CGSPAWN_PARENT CGSPAWN_STATE_DIR=" + dir +
      "/state " + cgtest::built_program("CGSPAWN_BIN") + " run -q --id pd-user -- " + probe_script(dir)));
  CAPTURE(r.out);
  CHECK(r.status == 0);
  std::string cgroup = cgtest::read_text(dir + "/cgroup").value_or("");
  CAPTURE(cgroup);
  CHECK(cgroup.find("/user.slice/user-1500.slice/user@1500.service/app.slice/run-") == 0);
  CHECK(cgroup.find(".scope/cgspawn/cgspawn-pd-user\n") != std::string::npos);
  auto daemon = cgtest::identify(cgtest::read_pids(dir + "/pids"));
  REQUIRE(daemon.size() == 1);
  CHECK(cgtest::still_alive(daemon, scaled(10s)).empty());
  sh("rm -rf " + dir);
}
