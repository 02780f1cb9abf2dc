// SPDX-License-Identifier: MIT
// A process no SIGKILL can end -- frozen by the cgroup v1 freezer while it stays in its
// cgroup2 node -- must show up as a survivor: outcome failed, the report not complete, and
// `cgspawn run` exits 125. Afterwards it is thawed, dies of the pending SIGKILL, and the
// freezer and task cgroups are removed (by RAII guards, also when the test fails).
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "freezer.hpp"
#include "host.hpp"
#include "task.hpp"

using namespace cgtest;
using namespace cgspawn;

namespace {

// On a pure v2 host there is no v1 freezer and no other way to make an unkillable process.
bool freezer_available(const V1Freezer& freezer) {
  if (!freezer.available()) {
    skip_case("no cgroup v1 freezer here (pure cgroup v2): no process can be made unkillable");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("library: a frozen survivor makes the row failed and the report incomplete") {
  TestParent parent;  // declared first: destroyed last, after the freezer has thawed
  V1Freezer freezer;
  if (!freezer_available(freezer)) return;
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto task = spawner_under(parent)->spawn(
      shell("frozen", R"(sleep 1000 & echo $! >> "$1"; sleep 1000 & echo $! >> "$1"; wait)", {file}));
  REQUIRE(wait_for_lines(file, 2));
  auto pids = read_pids(file);
  auto ids = identify(pids);
  pid_t frozen = pids[0], free = pids[1];
  REQUIRE(wait_for_comm(frozen, "sleep"));
  freezer.add(frozen);
  freezer.freeze();
  CHECK(cgroup_of(frozen) == parent.relative() + "/cgspawn-frozen");  // still in its cgroup2 node

  auto start = Clock::now();
  Result r = task->finish(destroy_options(std::chrono::milliseconds(0), std::chrono::milliseconds(800)));
  CHECK(seconds_since(start) < 10);
  REQUIRE(r.cleanup.resources.size() == 1);
  const auto& row = r.cleanup.resources[0];
  CAPTURE(row.detail);
  CHECK(row.outcome == Outcome::failed);
  CHECK_FALSE(r.cleanup.complete());
  REQUIRE(row.survivors.size() == 1);
  CHECK(row.survivors[0].pid == frozen);
  CHECK(row.survivors[0].comm == "sleep");
  CHECK_FALSE(row.survivors[0].state.empty());
  CHECK(row.detail.find("still in") != std::string::npos);
  CHECK(killed_has(row, frozen));  // it was sent SIGKILL; it just cannot act on it
  CHECK(killed_has(row, free));
  CHECK(exists(parent.task_path("frozen")));  // a cgroup with a survivor is not removed

  // The JSON carries the survivor with its state.
  auto j = nlohmann::json::parse(to_json(r));
  CHECK(j["cleanup"]["complete"] == false);
  CHECK(j["cleanup"]["resources"][0]["outcome"] == "failed");
  CHECK(j["cleanup"]["resources"][0]["survivors"][0]["pid"] == frozen);
  CHECK(j["cleanup"]["resources"][0]["survivors"][0]["state"].is_string());

  // The others are gone; thawed, the survivor dies of its pending SIGKILL.
  CHECK(still_alive({ids[1]}).empty());
  CHECK_FALSE(still_alive({ids[0]}, std::chrono::milliseconds(200)).empty());
  freezer.thaw();
  CHECK(still_alive({ids[0]}).empty());
}

TEST_CASE("cgspawn run: a survivor makes it exit 125, the program's own status in the Result") {
  TestParent parent;
  V1Freezer freezer;
  if (!freezer_available(freezer)) return;
  TempDir tmp;
  std::string file = tmp.file("pids"), go = tmp.file("go"), result = tmp.file("result.json");
  Child cli({cgspawn_bin(), "run", "--parent", parent.path(), "--id", "frozen-cli", "--grace", "0",
             "--result", result, "--", "/bin/sh", "-c",
             R"(sleep 1000 & echo $! >> "$1"; while [ ! -e "$2" ]; do sleep 0.05; done; exit 3)", "sh", file,
             go});
  REQUIRE(wait_for_lines(file, 1));
  auto ids = identify(read_pids(file));
  REQUIRE(wait_for_comm(ids[0].pid, "sleep"));
  freezer.add(ids[0].pid);
  freezer.freeze();
  write_text(go, "");
  // cgspawn waits out its verify timeout (10 s) before it reports the survivor.
  RunResult r = cli.wait(std::chrono::seconds(90));
  CAPTURE(r.err);
  CHECK_FALSE(r.hung);
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("NOT complete") != std::string::npos);
  CHECK(r.err.find("SURVIVORS sleep[" + std::to_string(ids[0].pid) + "]") != std::string::npos);
  auto text = read_text(result);
  REQUIRE(text.has_value());
  auto j = nlohmann::json::parse(*text);
  CHECK(j["exit"]["code"] == 3);
  CHECK(j["exit"]["reason"] == "exited");
  CHECK(j["cleanup"]["complete"] == false);
  const auto& row = j["cleanup"]["resources"][0];
  CHECK(row["kind"] == "cgroup");
  CHECK(row["id"] == parent.task_path("frozen-cli"));
  CHECK(row["outcome"] == "failed");
  REQUIRE(row["survivors"].size() == 1);
  CHECK(row["survivors"][0]["pid"] == ids[0].pid);
  CHECK(row["survivors"][0]["comm"] == "sleep");
  CHECK(row["survivors"][0]["state"].is_string());
  freezer.thaw();
  CHECK(still_alive(ids).empty());
}

// The issue's D-state case end to end: a started task whose child is held in an
// uninterruptible wait. Its destroy takes the hang report first (the wait, read before any
// freeze), then names the survivor with the same wait and says the host needs attention; the
// record keeps the cgroup, `reap` retries and reports it again, and after the thaw finishes.
TEST_CASE(
    "cgspawn destroy: a process in D state is in the hang report and named as a survivor; reap retries") {
  TestParent parent;
  V1Freezer freezer;
  if (!freezer_available(freezer)) return;
  TempDir tmp;
  std::string state = tmp.file("state"), file = tmp.file("pids");
  REQUIRE(run_cgspawn({"start", "--parent", parent.path(), "--state-dir", state, "--id", "dstate", "--", "sh",
                       "-c", "sleep 1000 & echo $! >> " + file + "; wait"})
              .exit_code == 0);
  REQUIRE(wait_for_lines(file, 1));
  auto ids = identify(read_pids(file));
  pid_t held = ids[0].pid;
  REQUIRE(wait_for_comm(held, "sleep"));
  freezer.add(held);
  freezer.freeze();

  auto asked = Clock::now();
  RunResult d = run_cgspawn({"destroy", "dstate", "--state-dir", state, "--grace", "0", "--json"});
  CAPTURE(d.out);
  CHECK(d.exit_code == 1);
  // The supervisor waited the verify timeout (10 s) for the survivor; `destroy` does not wait
  // it a second time for the same answer (it did: 20 s and more).
  CHECK(seconds_since(asked) < 18);
  auto j = nlohmann::json::parse(d.out);
  REQUIRE(j.at("result").contains("hang"));
  const auto& hang = j.at("result").at("hang");
  CHECK(hang.at("frozen") == false);  // the held process never stops for the v2 freezer
  CHECK(hang.at("note").get<std::string>().find("not frozen within") != std::string::npos);
  bool described = false;
  for (const auto& p : hang.at("processes")) {
    if (p.at("pid") != held) continue;
    described = true;
    CHECK(p.at("state") == "D");
    CHECK_FALSE(p.at("threads")[0].at("wchan").get<std::string>().empty());
    CHECK_FALSE(p.at("threads")[0].at("stack").empty());  // as root
  }
  CHECK(described);
  const auto& row = j.at("cleanup").at("resources")[0];
  CHECK(row.at("outcome") == "failed");
  REQUIRE(row.at("survivors").size() == 1);
  CHECK(row.at("survivors")[0].at("pid") == held);
  CHECK(row.at("survivors")[0].at("state") == "D");
  CHECK_FALSE(row.at("survivors")[0].at("wchan").get<std::string>().empty());
  CHECK_FALSE(row.at("survivors")[0].at("stack").empty());

  // reap retries while it is held, and says plainly that the host needs attention.
  RunResult again = run_cgspawn({"reap", "--state-dir", state, "--grace", "0"});
  CAPTURE(again.out);
  CAPTURE(again.err);
  CHECK(again.exit_code != 0);
  std::string text = again.out + again.err;
  CHECK(text.find("SURVIVORS sleep[" + std::to_string(held) + "](D)") != std::string::npos);
  CHECK(text.find(std::to_string(held) + " waits in ") != std::string::npos);
  CHECK(text.find("THE HOST NEEDS ATTENTION") != std::string::npos);
  CHECK(exists(parent.task_path("dstate")));

  freezer.thaw();
  RunResult done = run_cgspawn({"reap", "--state-dir", state});
  CAPTURE(done.out);
  CHECK(done.exit_code == 0);
  CHECK(still_alive(ids).empty());
  CHECK_FALSE(exists(parent.task_path("dstate")));
  CHECK(run_cgspawn({"list", "--state-dir", state}).out.empty());
}

// SpawnTransaction::unwind: what a failed spawn made goes, verified, and its record goes only
// if all of it did. Here the spawn stops once its cgroup exists (a crash point), a process of
// the test's own that no SIGKILL ends is moved into that cgroup, and then the exec fails
// (a file that is executable but no program): the rollback cannot empty the cgroup, so it
// says what it left and keeps the record, which `reap` finishes after the thaw.
TEST_CASE("cgspawn run: a failed spawn whose rollback cannot verify keeps its record for reap and names it") {
  TestParent parent;
  Child held({"/bin/sleep", "1000"});  // before the freezer: killed after it has thawed
  V1Freezer freezer;
  if (!freezer_available(freezer)) return;
  TempDir tmp;
  std::string state = tmp.file("state"), program = tmp.file("not-a-program");
  write_text(program, std::string("\x01\x02 not an executable format\n"), 0755);
  REQUIRE(wait_for_comm(held.pid(), "sleep"));
  auto ids = identify({held.pid()});
  freezer.add(held.pid());
  freezer.freeze();
  Child run({cgspawn_bin(), "run", "--parent", parent.path(), "--state-dir", state, "--id", "unwound", "--",
             program},
            {"CGSPAWN_CRASH_AT=stop:spawn-after-cgroup"});
  REQUIRE(eventually([&] { return process_state(run.pid()) == "T"; }));
  write_text(parent.task_path("unwound") + "/cgroup.procs", std::to_string(held.pid()));
  run.signal(SIGCONT);
  RunResult r = run.wait(std::chrono::seconds(90));  // the rollback waits out its verify timeout
  CAPTURE(r.err);
  CHECK_FALSE(r.hung);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(program) != std::string::npos);  // the spawn's own error names the program
  CHECK(r.err.find("a failed spawn left cgroup " + parent.task_path("unwound")) != std::string::npos);
  CHECK(exists(parent.task_path("unwound")));
  auto listed = nlohmann::json::parse(run_cgspawn({"list", "--json", "--state-dir", state}).out);
  REQUIRE(listed.at("tasks").size() == 1);
  CHECK(listed.at("tasks")[0].at("id") == "unwound");

  freezer.thaw();
  RunResult reap = run_cgspawn({"reap", "--state-dir", state});
  CAPTURE(reap.out);
  CAPTURE(reap.err);
  CHECK(reap.exit_code == 0);
  CHECK(still_alive(ids).empty());
  CHECK_FALSE(exists(parent.task_path("unwound")));
  CHECK(run_cgspawn({"list", "--state-dir", state}).out.empty());
}
