// SPDX-License-Identifier: MIT
// A host without cgroup2, made for real: cgspawn runs in a private mount namespace where the
// cgroup2 mount is lazily unmounted (the host's own mounts are untouched). The task is then
// its own process group, and the report must say "not-guaranteed". And the cgroup2 mount that
// a process found is not what it finds after it entered another mount namespace.
#include <doctest/doctest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cgroup/hierarchy.hpp"
#include "cli.hpp"
#include "host.hpp"

using namespace cgtest;
using nlohmann::json;

namespace {

// Runs ARGS in a private mount namespace without cgroup2.
std::vector<std::string> without_cgroup2(const std::vector<std::string>& args) {
  std::string mount = cgroup2_mount();
  REQUIRE_MESSAGE(!mount.empty(), "no cgroup2 on this host to take away");
  std::vector<std::string> argv = {"/usr/bin/unshare",
                                   "-m",
                                   "--propagation",
                                   "private",
                                   "/bin/sh",
                                   "-c",
                                   R"(umount -l "$0" && exec "$@")",
                                   mount};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// Kills the processes (if they are still the same ones) however the test ends: without a
// cgroup, no TestParent could.
struct KillGuard {
  std::vector<ProcessId> processes;
  ~KillGuard() {
    for (const auto& p : processes)
      if (!is_gone(p)) ::kill(p.pid, SIGKILL);
  }
};

}  // namespace

TEST_CASE("no cgroup2: the process group is destroyed and the row says not-guaranteed") {
  REQUIRE(::geteuid() == 0);
  TempDir tmp;
  std::string file = tmp.file("pids"), result = tmp.file("r.json");
  KillGuard guard;
  Child cli(without_cgroup2({cgspawn_bin(), "run", "--result", result, "--grace", "5s", "--", "/bin/sh", "-c",
                             R"(sleep 1000 & echo $! >> "$1"; echo $$ >> "$1"; exit 4)", "sh", file}),
            {}, {"CGSPAWN_PARENT"});
  REQUIRE(wait_for_lines(file, 2));
  guard.processes = identify(read_pids(file));
  RunResult r = cli.wait(std::chrono::seconds(60));
  CAPTURE(r.err);
  // The cleanup is not complete (nothing can verify it), so the status is 125; the program's
  // own status is in the Result.
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("not-guaranteed") != std::string::npos);
  CHECK(r.err.find("no cgroup2") != std::string::npos);
  auto text = read_text(result);
  REQUIRE(text.has_value());
  json j = json::parse(*text);
  CHECK(j["exit"]["code"] == 4);
  CHECK(j["exit"]["reason"] == "exited");
  CHECK(j["cleanup"]["complete"] == false);
  REQUIRE(j["cleanup"]["resources"].size() == 1);
  const json& row = j["cleanup"]["resources"][0];
  CHECK(row["kind"] == "process-group");
  CHECK(row["id"] == std::to_string(guard.processes[1].pid));  // the main process leads the group
  CHECK(row["outcome"] == "not-guaranteed");
  CHECK(row["detail"].get<std::string>().find("no cgroup2") != std::string::npos);
  CHECK(row["survivors"].empty());
  bool listed = false;
  for (const auto& k : row["killed"]) listed = listed || k["pid"] == guard.processes[0].pid;
  CHECK(listed);
  CHECK(still_alive(guard.processes).empty());
}

TEST_CASE("no cgroup2: a limit is refused, and backends says why it cannot kill or verify") {
  TempDir tmp;
  std::string marker = tmp.file("ran");
  Child limited(
      without_cgroup2({cgspawn_bin(), "run", "--pids-max", "10", "--", "/bin/sh", "-c", "touch " + marker}),
      {}, {"CGSPAWN_PARENT"});
  RunResult r = limited.wait();
  CAPTURE(r.err);
  CHECK(r.exit_code == 125);
  CHECK(r.err_lines().size() == 1);
  CHECK(r.err.find("no cgroup2") != std::string::npos);
  CHECK_FALSE(exists(marker));

  Child backends(without_cgroup2({cgspawn_bin(), "backends", "--json"}), {}, {"CGSPAWN_PARENT"});
  RunResult b = backends.wait();
  REQUIRE(b.exit_code == 0);
  json j = json::parse(b.out);
  const json& p = j["backends"][0];
  CHECK(p["backend"] == "process");
  CHECK(p["kill_all"]["available"] == false);
  CHECK(p["verify"]["available"] == false);
  CHECK(p["kill_all"]["reason"].get<std::string>().find("no cgroup2") != std::string::npos);
  CHECK(p["limits"]["pids_max"]["available"] == false);
}

TEST_CASE("no cgroup2: exit statuses of the program still come through in the Result") {
  TempDir tmp;
  std::string result = tmp.file("r.json");
  Child cli(without_cgroup2(
                {cgspawn_bin(), "run", "-q", "--result", result, "--", "/bin/sh", "-c", "kill -USR1 $$"}),
            {}, {"CGSPAWN_PARENT"});
  RunResult r = cli.wait();
  CHECK(r.exit_code == 125);
  json j = json::parse(read_text(result).value_or("{}"));
  CHECK(j["exit"]["signal"] == SIGUSR1);
  CHECK(j["exit"]["reason"] == "signaled");
  CHECK(j["cleanup"]["resources"][0]["outcome"] == "not-guaranteed");
}

TEST_CASE("no cgroup2: a timed-out task's hang report is still taken, from its process group, not frozen") {
  TempDir tmp;
  std::string result = tmp.file("r.json"), file = tmp.file("pids");
  KillGuard guard;
  Child cli(
      without_cgroup2({cgspawn_bin(), "run", "-q", "--result", result, "--timeout", "500ms", "--grace",
                       "100ms", "--", "/bin/sh", "-c", R"(echo $$ >> "$1"; sleep 1000 | cat)", "sh", file}),
      {}, {"CGSPAWN_PARENT"});
  REQUIRE(wait_for_lines(file, 1));
  guard.processes = identify(read_pids(file));
  RunResult r = cli.wait();
  CHECK(r.exit_code == 125);  // not verifiable without cgroup2; the timeout is in the Result
  json j = json::parse(read_text(result).value_or("{}"));
  CHECK(j["exit"]["reason"] == "timed-out");
  REQUIRE(j.contains("hang"));
  CHECK(j["hang"]["frozen"] == false);
  CHECK(j["hang"]["note"].get<std::string>().find("no cgroup2") != std::string::npos);
  std::vector<std::string> comms;
  for (const auto& p : j["hang"]["processes"]) comms.push_back(p["comm"]);
  std::sort(comms.begin(), comms.end());
  CHECK(comms == std::vector<std::string>{"cat", "sh", "sleep"});
  CHECK(still_alive(guard.processes).empty());
}

// discover_hierarchy() keeps the mounts it read per mount namespace: a process that moves to a
// private one where cgroup2 is gone must not be told the old mount.
TEST_CASE("the cgroup2 mount is discovered again in another mount namespace") {
  REQUIRE(::geteuid() == 0);
  std::string mount = cgspawn::discover_hierarchy().mount;
  REQUIRE_MESSAGE(!mount.empty(), "no cgroup2 on this host to take away");
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // exit status: 0 right, 1 the old mount still given, 2 setup failed
    if (cgspawn::discover_hierarchy().mount != mount) ::_exit(2);  // read here too, and kept
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::umount2(mount.c_str(), MNT_DETACH) != 0)
      ::_exit(2);
    cgspawn::Hierarchy h = cgspawn::discover_hierarchy();
    ::_exit(h.mount.empty() && h.layout == cgspawn::CgroupLayout::none ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(cgspawn::discover_hierarchy().mount == mount);  // this process's namespace is untouched
}
