// SPDX-License-Identifier: MIT
// A process no SIGKILL can end -- frozen by the cgroup v1 freezer while it stays in its
// cgroup2 node -- must show up as a survivor: outcome failed, the report not complete, and
// `cgspawn run` exits 125. Afterwards it is thawed, dies of the pending SIGKILL, and the
// freezer and task cgroups are removed (by RAII guards, also when the test fails).
#include <doctest/doctest.h>
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
