// SPDX-License-Identifier: MIT
// exit.cause (docs/cli.md) with real processes: by itself, a signal from outside cgspawn, the
// timeout, a signal to `cgspawn run`, and reap after the runner's SIGKILL. The OOM causes need a
// memory controller: the guest checks oom-limit, tests/unit the decision itself.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "host.hpp"
#include "results.hpp"

using namespace cgtest;
using json = nlohmann::json;

TEST_CASE("exit cause: exited, a signal from outside, the timeout, a signal to cgspawn run") {
  TestParent parent;
  TempDir tmp;
  json e = run_json({"--parent", parent.path(), "--", "sh", "-c", "exit 3"}, tmp, 3);
  CHECK(e.at("exit").at("cause") == "exited");
  json s = run_json({"--parent", parent.path(), "--", "sh", "-c", "kill -9 $$"}, tmp, 128 + SIGKILL);
  CHECK(s.at("exit").at("reason") == "signaled");
  CHECK(s.at("exit").at("cause") == "signal");  // no OOM evidence
  json t = run_json(
      {"--parent", parent.path(), "--timeout", "200ms", "--grace", "100ms", "--", "sleep", "100"}, tmp, 124);
  CHECK(t.at("exit").at("cause") == "timeout");

  std::string ready = tmp.file("ready"), result = tmp.file("destroyed.json");
  Child run({cgspawn_bin(), "run", "-q", "--result", result, "--parent", parent.path(), "--", "sh", "-c",
             "echo $$ > " + ready + "; exec sleep 100"});
  REQUIRE(wait_for_lines(ready, 1));
  run.signal(SIGTERM);
  RunResult r = run.wait();
  CHECK(r.exit_code == 128 + SIGTERM);
  json d = json::parse(read_text(result).value_or("{}"));
  CHECK(d.at("exit").at("reason") == "destroyed");
  CHECK(d.at("exit").at("cause") == "destroyed");
}

TEST_CASE("exit cause: owner-gone when reap destroys a task whose runner was SIGKILLed") {
  TestParent parent;
  TempDir tmp;
  std::string state = tmp.file("state"), ready = tmp.file("ready");
  ::mkdir(state.c_str(), 0700);
  Child run({cgspawn_bin(), "run", "-q", "--parent", parent.path(), "--state-dir", state, "--id", "orphaned",
             "--", "sh", "-c", "echo $$ > " + ready + "; exec sleep 1000"});
  REQUIRE(wait_for_lines(ready, 1));
  auto task = identify(read_pids(ready));
  run.signal(SIGKILL);
  run.wait();
  RunResult reap = run_cgspawn({"reap", "--json", "--state-dir", state});
  CAPTURE(reap.out);
  CHECK(reap.exit_code == 0);
  json j = json::parse(reap.out);
  REQUIRE(j.at("tasks").size() == 1);
  const json& result = j.at("tasks")[0].at("result");
  REQUIRE(result.is_object());
  CHECK(result.at("exit").at("cause") == "owner-gone");
  CHECK(result.at("exit").at("reason") == "destroyed");
  CHECK(result.at("exit").at("code").is_null());  // not reap's child: its status is unknown
  CHECK(result.at("cleanup").at("complete") == true);
  CHECK(still_alive(task).empty());
  CHECK(parent.children().empty());
}
