// SPDX-License-Identifier: MIT
// The remote backend on a remote where cgspawn is installed (the fake remote r73: this build's
// cgspawn at /usr/local/bin there, a dash login shell, its own PID namespace): that cgspawn
// makes the boundary, destroys and reports, and the agent still keeps the lease and checks.
#include <doctest/doctest.h>
#include <signal.h>

#include <regex>

#include "remote_checks.hpp"

using namespace std::chrono_literals;
using cgtest::RunResult;
using cgtest::TempDir;
using rtest::Lab;
using namespace rtest::checks;

namespace {

int killed_total(const std::string& json) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"killed_total\": ([0-9]+)"))) return -1;
  return std::stoi(m[1]);
}

}  // namespace

TEST_CASE("installed cgspawn: Capabilities name it, its version, and what its process backend can do") {
  const Lab& lab = rtest::cgspawn_lab();
  TempDir dir;
  RunResult r = rtest::cgspawn_in(state_dir(dir), {"backends", "--host", lab.alias(), "--ssh-config",
                                                   lab.config(), "--state-dir", state_dir(dir)});
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("remote: usable (the boundary the cgspawn installed on " + lab.alias() + " (version ") !=
        std::string::npos);
  CHECK(r.out.find("its process backend: task cgroups under " + cgtest::cgroup2_mount() + "/cgspawn") !=
        std::string::npos);
  CHECK(r.out.find("`cgspawn destroy` on the remote") != std::string::npos);
  // Its own words about limits on a hybrid remote (v1 holds the memory controller), not the agent's.
  if (!cgtest::v1_mount("memory").empty())
    CHECK(r.out.find("the cgspawn installed on remote" + std::to_string(lab.n) +
                     ": the memory controller is bound to the cgroup v1") != std::string::npos);
}

TEST_CASE("installed cgspawn: hostile argv arrives byte-exact") {
  check_argv_byte_exact(rtest::cgspawn_lab());
}
TEST_CASE("installed cgspawn: the task's exit status travels in-band (0, 7, 255, and a signal)") {
  check_exit_status(rtest::cgspawn_lab());
}

TEST_CASE("installed cgspawn: the task cannot forge its status through that cgspawn either") {
  check_status_unforgeable(rtest::cgspawn_lab());
}
TEST_CASE("installed cgspawn: escapees are destroyed by `cgspawn destroy` there, and its report lists them") {
  const Lab& lab = rtest::cgspawn_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  Escapees escapees = start_escapees(lab, state, 20);
  const std::string& id = escapees.id;
  CHECK(installed_ledger_tasks(lab).find(id) != std::string::npos);  // its ledger holds the task
  RunResult destroy = rtest::cgspawn_in(state, {"destroy", "--state-dir", state, "--json", id});
  INFO(all_of(destroy));
  CHECK(destroy.exit_code == 0);
  CHECK(destroy.out.find("destroyed by the cgspawn installed there, its cgroup verified removed") !=
        std::string::npos);
  CHECK(destroy.out.find("its `cgspawn destroy`: cgroup destroyed") != std::string::npos);
  CHECK(killed_total(destroy.out) >= 23);
  CHECK(alive_count(escapees.pids) == 0);
  check_nothing_left(lab, state);
}

TEST_CASE("installed cgspawn: a daemon left by a task that ended is killed there at once, and named") {
  const Lab& lab = rtest::cgspawn_lab();
  TempDir dir;
  std::string result = dir.file("result.json");
  // The task ends once its daemon is a sleep (not still setsid), so the report can name it.
  std::string daemon_then_exit =
      "setsid sleep 903 </dev/null >/dev/null 2>&1 & d=$!; "
      "until read -r c < /proc/$d/comm && [ \"$c\" = sleep ]; do :; done; exit 3";
  RunResult r = rtest::cgspawn_in(state_dir(dir),
                                  rtest::remote_args("run", lab, state_dir(dir), {"-q", "--result", result},
                                                     {"sh", "-c", daemon_then_exit}));
  INFO(all_of(r));
  CHECK(r.exit_code == 3);
  std::string json = cgtest::read_text(result).value_or("");
  CAPTURE(json);
  CHECK(json.find("\"complete\": true") != std::string::npos);
  CHECK(json.find("its `cgspawn run` when the task ended: cgroup destroyed") != std::string::npos);
  CHECK(json.find("\"comm\": \"sleep\"") != std::string::npos);
  check_nothing_left(lab, state_dir(dir));
}

TEST_CASE(
    "installed cgspawn: the local side SIGKILLed mid-task: the lease has that cgspawn destroy it; reap "
    "confirms") {
  const Lab& lab = rtest::cgspawn_lab();
  RunResult reap = check_sigkill_then_reap(lab);
  INFO(all_of(reap));
  CHECK(reap.out.find("its `cgspawn destroy` by the lease: cgroup destroyed") != std::string::npos);
}

TEST_CASE(
    "installed cgspawn: partition: not-guaranteed in bounded time, the lease has that cgspawn destroy it, "
    "reap completes") {
  check_partition(rtest::cgspawn_lab());
}

TEST_CASE(
    "installed cgspawn: a limit it cannot enforce is refused with its own reason, and nothing is left") {
  const Lab& lab = rtest::cgspawn_lab();
  check_start_failure(
      lab, lab.config(),
      "did not start the task (exit 125): cannot enforce the memory limit: the memory controller is bound",
      {"--memory-max", "64M"});
}
