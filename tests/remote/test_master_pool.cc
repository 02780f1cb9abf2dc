// SPDX-License-Identifier: MIT
// The pool of ssh masters to one host (docs/backends.md, remote): a master is closed only when
// no task holds it, and a spawn that has just taken one up holds it before its record says so.
// Needs a -Dcrash_points=true build (the suite's): the spawn is stopped there on purpose.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "host.hpp"
#include "remote_checks.hpp"
#include "remote_lab.hpp"

using namespace std::chrono_literals;
using cgtest::RunResult;
using cgtest::TempDir;
using rtest::Lab;
using namespace rtest::checks;

namespace {

bool stopped_within(pid_t pid, std::chrono::milliseconds timeout) {
  return rtest::wait_until(
      [pid] {
        std::string state = cgtest::process_state(pid);
        return state == "T" || state == "t";
      },
      timeout);
}

std::vector<std::string> with_stop_at(const std::string& state, const std::string& point) {
  std::vector<std::string> env = rtest::cgspawn_env(state);
  env.push_back("CGSPAWN_CRASH_AT=stop:" + point);
  return env;
}

// Whether `report` (a destroy's --json) has a row of `kind` with `outcome`, at any depth.
bool has_row(const nlohmann::json& report, const std::string& kind, const std::string& outcome) {
  if (report.is_object() && report.value("kind", "") == kind && report.value("outcome", "") == outcome)
    return true;
  if (report.is_structured())
    for (const auto& item : report)
      if (has_row(item, kind, outcome)) return true;
  return false;
}

// The lab sshd's MaxSessions: this many sessions make a master full.
constexpr int kFill = 10;

// Tasks f0 .. f9 (`sleep 600`, with `start`'s `extra` options): the first master is then full.
void fill_first_master(Sleepers& sleepers, const Lab& lab, const std::vector<std::string>& extra = {}) {
  for (int i = 0; i < kFill; ++i) sleepers.start(lab, "f" + std::to_string(i), extra);
}

}  // namespace

TEST_CASE(
    "master pool: a run that has just taken up the second master, not yet recorded on it, keeps it open "
    "against another task's destroy") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  Sleepers sleepers(state);
  fill_first_master(sleepers, lab);
  sleepers.start(lab, "a");
  REQUIRE(control_sockets(state).size() == 2);  // task a alone on the second master

  // The run stops at the master it takes up, before its record names that master: the least
  // loaded one, task a's (the first is full).
  cgtest::Child run(rtest::cgspawn_argv(rtest::remote_args("run", lab, state, {"-q"}, {"true"})),
                    with_stop_at(state, "remote-master-taken"));
  REQUIRE_MESSAGE(stopped_within(run.pid(), 30s),
                  "the run did not stop at remote-master-taken: a build without -Dcrash_points=true?");

  // Task a's destroy lets go of its master while the stopped run, whose record does not name
  // that master yet, holds it: the master stays open.
  RunResult d = rtest::cgspawn_in(state, {"destroy", "a", "--state-dir", state, "--grace", "0s", "--json"});
  INFO(all_of(d));
  CHECK(d.exit_code == 0);
  CHECK(has_row(nlohmann::json::parse(d.out), "ssh-master", "kept"));
  REQUIRE(control_sockets(state).size() == 2);
  for (const auto& socket : control_sockets(state)) {
    RunResult check = cgtest::Child({"/usr/bin/ssh", "-S", socket, "-O", "check", "placeholder"}).wait(10s);
    CAPTURE(socket);
    INFO(all_of(check));
    CHECK(check.exit_code == 0);
  }

  run.signal(SIGCONT);
  RunResult r = run.wait(60s);
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  for (int i = 0; i < kFill; ++i) {
    RunResult f =
        rtest::cgspawn_in(state, {"destroy", "f" + std::to_string(i), "--state-dir", state, "--grace", "0s"});
    INFO(all_of(f));
    CHECK(f.exit_code == 0);
  }
  check_nothing_left(lab, state);  // the second master too: the last to let go of it closed it
}

TEST_CASE(
    "master pool: a hold that no live task records and that goes a moment later (a killed supervisor's "
    "last thread) does not keep the master open") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  Sleepers sleepers(state);
  sleepers.start(lab, "a");
  auto sockets = control_sockets(state);
  REQUIRE(sockets.size() == 1);
  std::string holds = sockets[0] + ".users";
  // A process that holds the master as a task's supervisor does, and is gone once the destroy
  // below has begun to close it: as the other thread of a supervisor killed a moment ago.
  cgtest::Child leaving({"/usr/bin/flock", "--shared", "--no-fork", holds, "sleep", "600"});
  REQUIRE(rtest::wait_until(
      [&] {
        return cgtest::Child({"/usr/bin/flock", "--exclusive", "--nonblock", holds, "true"})
                   .wait(10s)
                   .exit_code == 1;
      },
      10s));
  cgtest::Child destroy(
      rtest::cgspawn_argv({"destroy", "a", "--state-dir", state, "--grace", "0s", "--json"}),
      rtest::cgspawn_env(state));
  REQUIRE(rtest::wait_until([&] { return rtest::remote_task_cgroups(lab).empty(); }, 30s));
  std::this_thread::sleep_for(300ms);  // the task is gone: its close is asking about the master now
  leaving.signal(SIGKILL);
  leaving.wait(10s);
  RunResult d = destroy.wait(30s);
  INFO(all_of(d));
  CHECK(d.exit_code == 0);
  CHECK(has_row(nlohmann::json::parse(d.out), "ssh-master", "destroyed"));
  check_nothing_left(lab, state);  // the master too: nobody held it once that process was gone
}

// A destroy whose task's master has no session slot left (sshd's MaxSessions) takes its hang
// report and its kill over a destroy master of the pool ("-k0"), which the last destroy to let
// go of it closes: one connection for many destroys, where each used to open its own.
TEST_CASE("master pool: destroys on a full master share a destroy master, closed after them") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  Sleepers sleepers(state);
  fill_first_master(sleepers, lab, {"--label", "pool=full"});
  REQUIRE(control_sockets(state).size() == 1);

  size_t connections = sshd_log_lines(lab, "Accepted publickey");
  RunResult d = rtest::cgspawn_in(state, {"destroy", "f0", "--state-dir", state, "--grace", "0s", "--json"});
  INFO(all_of(d));
  CHECK(d.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(d.out);
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(j.at("result").at("hang").at("processes").size() >= 1);  // the report came over it too
  bool closed = false;
  for (const auto& row : j.at("cleanup").at("resources"))
    closed = closed || (row.at("kind") == "ssh-master" && row.at("id").get<std::string>().ends_with("-k0") &&
                        row.at("outcome") == "destroyed");
  CHECK_MESSAGE(closed, "no row of the destroy master -k0, closed");
  CHECK(sshd_log_lines(lab, "Accepted publickey") - connections == 1);  // the destroy master's
  CHECK(control_sockets(state).size() == 1);                            // the task's own only

  // The other nine at once, their master full but for f0's slot: they share one destroy master.
  connections = sshd_log_lines(lab, "Accepted publickey");
  RunResult all = rtest::cgspawn_in(
      state, {"destroy", "--label", "pool=full", "--state-dir", state, "--grace", "0s", "--json"});
  INFO(all_of(all));
  CHECK(all.exit_code == 0);
  // One when they hold it together; a second only if one came after all the others had closed it.
  CHECK(sshd_log_lines(lab, "Accepted publickey") - connections <= 2);
  check_nothing_left(lab, state);
}
