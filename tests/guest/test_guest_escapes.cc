// SPDX-License-Identifier: MIT
// The escape scenarios on a real pure cgroup v2 host (the guest VM), with limits on, as users
// run them: a double-forked setsid daemon, a child that ignores SIGTERM, and a tree of 100
// processes are all destroyed, and verified gone (processes and cgroups).
#include <doctest/doctest.h>
#include <unistd.h>

#include <csignal>
#include <set>

#include "cgspawn/cgspawn.hpp"
#include "cli.hpp"
#include "guest.hpp"
#include "host.hpp"
#include "task.hpp"

using namespace cgtest;
using namespace cgguest;
using namespace cgspawn;

namespace {

std::unique_ptr<Spawner> spawner_below(const GuestParent& parent) {
  ProcessSpawnerOptions options;
  options.parent = parent.path();
  return make_process_spawner(options);
}

const ResourceOutcome& destroyed_row(const Result& r, const GuestParent& parent, const std::string& id) {
  REQUIRE(r.cleanup.resources.size() == 1);
  const ResourceOutcome& row = r.cleanup.resources[0];
  CHECK(to_string(row.resource.kind) == "cgroup");
  CHECK(row.resource.id == parent.task_path(id));
  CHECK(to_string(row.outcome) == "destroyed");
  CHECK(row.survivors.empty());
  CHECK(r.cleanup.complete());
  return row;
}

void check_all_gone(const std::vector<ProcessId>& processes, const GuestParent& parent,
                    const std::string& id) {
  CHECK(still_alive(processes, scaled(10s)).empty());
  std::vector<pid_t> pids;
  for (const auto& p : processes) pids.push_back(p.pid);
  CHECK(alive_below(pids, parent.relative(), scaled(10s)).empty());
  CHECK_FALSE(exists(parent.task_path(id)));
  CHECK(parent.children().empty());
}

}  // namespace

TEST_CASE("escape: a double-forked setsid daemon is destroyed when the main process exits") {
  GuestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto spec = shell("daemon",
                    R"sh(: > "$1"
( setsid /bin/sh -c 'echo $$ >> "$1"; sleep 1000 & echo $! >> "$1"; wait' sh "$1" & )
while [ "$(wc -l < "$1")" -lt 2 ]; do sleep 0.05; done)sh",
                    {file});
  spec.grace = std::chrono::seconds(3);
  spec.limits.memory_max_bytes = 128ull << 20;
  spec.limits.pids_max = 32;
  spec.timeout = scaled(120s);
  auto task = spawner_below(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, 2, scaled(60s)));
  auto pids = read_pids(file);
  auto ids = identify(pids);
  pid_t daemon = pids[0];
  CHECK(session_of(daemon) == daemon);                                // it left the task's session
  CHECK(cgroup_of(daemon) == parent.relative() + "/cgspawn-daemon");  // ... but not its cgroup
  Result r = task->wait();
  CHECK(r.exit.reason == ExitReason::exited);
  CHECK(r.exit.code == 0);
  const auto& row = destroyed_row(r, parent, "daemon");
  CHECK(killed_has(row, pids[0]));
  CHECK(killed_has(row, pids[1]));
  CHECK(row.killed_total == 2);
  check_all_gone(ids, parent, "daemon");
}

TEST_CASE("escape: a child that ignores SIGTERM is killed after the grace") {
  GuestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto spec = shell("ignore-term",
                    R"(/bin/sh -c 'trap "" TERM; echo $$ >> "$1"; while :; do sleep 1; done' sh "$1" &
wait)",
                    {file});
  spec.limits.pids_max = 16;
  auto task = spawner_below(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, 1, scaled(60s)));
  auto ids = identify(read_pids(file));
  auto start = Clock::now();
  Result r = task->finish(destroy_options(std::chrono::seconds(1), scaled(30s)));
  CHECK(r.exit.reason == ExitReason::destroyed);
  CHECK(r.exit.signal == SIGTERM);  // the main shell did not ignore it
  const auto& row = destroyed_row(r, parent, "ignore-term");
  CHECK(killed_has(row, ids[0].pid));
  CHECK(row.seconds >= 0.9);  // the grace was waited out: a process ignored SIGTERM
  CHECK(seconds_since(start) >= 0.9);
  CHECK(seconds_since(start) < scaled(30s).count() / 1000.0);
  check_all_gone(ids, parent, "ignore-term");
}

TEST_CASE("escape: a tree of 100 processes is destroyed when cgspawn run is told to stop (CLI)") {
  GuestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids"), result = tmp.file("result.json");
  const size_t n = 100;
  Child run({cgspawn_bin(), "run", "--parent", parent.path(), "--id", "tree", "--pids-max", "200",
             "--memory-max", "256M", "--grace", "2s", "--result", result, "--", helper_bin(), "tree",
             std::to_string(n), file});
  REQUIRE(wait_for_lines(file, n, scaled(120s)));
  auto pids = read_pids(file);
  REQUIRE(pids.size() == n);
  auto ids = identify(pids);
  std::string cg = parent.task_path("tree");
  CHECK(read_pids(cg + "/cgroup.procs").size() == n);
  CHECK(first_line(cg + "/pids.current") == std::to_string(n));
  run.signal(SIGTERM);
  RunResult r = run.wait(scaled(120s));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 128 + SIGTERM);
  auto j = read_json(result);
  INFO("result: " << j.dump());
  CHECK(j.at("exit").at("reason") == "destroyed");
  CHECK(j.at("cleanup").at("complete") == true);
  const auto& rows = j.at("cleanup").at("resources");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("outcome") == "destroyed");
  CHECK(rows[0].at("id") == cg);
  CHECK(rows[0].at("killed_total") == n);
  CHECK(rows[0].at("survivors").empty());
  std::set<pid_t> tree(pids.begin(), pids.end());
  for (const auto& p : rows[0].at("killed")) CHECK(tree.count(p.at("pid").get<pid_t>()) == 1);
  check_all_gone(ids, parent, "tree");
}

TEST_CASE("escape: a child that leaves through systemd-run --scope is killed and named (lineage)") {
  GuestParent parent;
  TempDir tmp;
  std::string pid_file = tmp.file("pid"), result = tmp.file("result.json");
  // systemd moves systemd-run into a new scope, which then execs sleep: a descendant outside.
  Child run({cgspawn_bin(), "run", "-q", "--parent", parent.path(), "--id", "via-scope", "--result", result,
             "--", "sh", "-c",
             "systemd-run --quiet --scope --unit=cgspawn-test-left sh -c 'echo $$ > " + pid_file +
                 "; exec sleep 1000' & while ! [ -s " + pid_file + " ]; do sleep 0.1; done; sleep 1"});
  RunResult r = run.wait(scaled(120s));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  auto j = read_json(result);
  INFO("result: " << j.dump());
  auto pids = read_pids(pid_file);
  REQUIRE(pids.size() == 1);
  bool named = false;
  for (const auto& row : j.at("cleanup").at("resources"))
    if (row.at("kind") == "escaped-process" && row.at("id") == std::to_string(pids[0])) {
      named = true;
      CHECK(row.at("outcome") == "destroyed");
      CHECK(row.at("detail").get<std::string>().find("cgspawn-test-left.scope") != std::string::npos);
    }
  CHECK(named);
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(eventually([&] { return ::kill(pids[0], 0) != 0; }, scaled(10s)));
  CHECK(eventually(  // the scope ends with its last process
      [] {
        return Child({"/usr/bin/systemctl", "is-active", "--quiet", "cgspawn-test-left.scope"})
                   .wait()
                   .exit_code != 0;
      },
      scaled(30s)));
  CHECK(parent.children().empty());
}
