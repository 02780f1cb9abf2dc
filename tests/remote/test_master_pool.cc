// SPDX-License-Identifier: MIT
// The pool of ssh masters to one host (docs/backends.md, remote): a master is closed only when
// no task holds it, and a spawn that has just taken one up holds it before its record says so.
// Needs a -Dcrash_points=true build (the suite's): the spawn is stopped there on purpose.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
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

// The environment of a cgspawn on `state` that stops at each of `points` in turn.
std::vector<std::string> with_stops_at(const std::string& state, const std::vector<std::string>& points) {
  std::vector<std::string> env = rtest::cgspawn_env(state);
  std::string at;
  for (const auto& point : points) at += (at.empty() ? "stop:" : ",stop:") + point;
  env.push_back("CGSPAWN_CRASH_AT=" + at);
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

// Whether a thread of `pid` waits in flock(2) (/proc/PID/task/TID/syscall names the call it is in).
bool waits_in_flock(pid_t pid) {
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string call = cgtest::read_text(t.path().string() + "/syscall").value_or("");
    if (std::atol(call.c_str()) == SYS_flock) return true;
  }
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
                    with_stops_at(state, {"remote-master-taken"}));
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

// The race a18abe4 closed: a close whose control directory another close had removed went on
// without the master's lock, found no socket, and stopped as a stray the ssh of a master that
// another cgspawn was starting under that lock (its `run` failed: "cannot connect"). Here the
// closer is stopped twice: before its lock, while the test closes the master and removes the
// directory as the other close did; and after it, while another run starts a master against a
// frozen remote (so its socket cannot appear before the closer goes on).
TEST_CASE(
    "master pool: a close that finds the control directory gone takes the lock anyway, so a master "
    "another run is starting meanwhile is not stopped as a stray") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  cgtest::Child closer(rtest::cgspawn_argv(rtest::remote_args("run", lab, state, {"-q"}, {"true"})),
                       with_stops_at(state, {"remote-master-close", "remote-master-close-locked"}));
  REQUIRE_MESSAGE(stopped_within(closer.pid(), 30s),
                  "the run did not stop at remote-master-close: a build without -Dcrash_points=true?");
  auto sockets = control_sockets(state);
  REQUIRE(sockets.size() == 1);
  {
    RunResult exit = cgtest::Child({"/usr/bin/ssh", "-S", sockets[0], "-O", "exit", "placeholder"}).wait(10s);
    INFO(all_of(exit));
    REQUIRE(exit.exit_code == 0);
  }
  REQUIRE(rtest::wait_until([&] { return rtest::local_ssh_processes(state).empty(); }, 10s));
  std::filesystem::remove_all(state + "/.ssh-mux");  // as the close that closed it does

  closer.signal(SIGCONT);
  REQUIRE_MESSAGE(stopped_within(closer.pid(), 30s), "the run did not stop at remote-master-close-locked");
  std::optional<FaultFor> frozen;
  frozen.emplace(lab, "freeze", "thaw");
  cgtest::Child starter(rtest::cgspawn_argv(rtest::remote_args("run", lab, state, {"-q"}, {"true"})),
                        rtest::cgspawn_env(state));
  // The starter waits for the closer's lock, or (without it) has its master's ssh running.
  REQUIRE(rtest::wait_until(
      [&] { return waits_in_flock(starter.pid()) || !rtest::local_ssh_processes(state).empty(); }, 30s));
  CHECK(rtest::local_ssh_processes(state).empty());

  closer.signal(SIGCONT);
  RunResult closed = closer.wait(30s);
  frozen.reset();
  RunResult started = starter.wait(60s);
  {
    INFO("the closer: " << all_of(closed));
    CHECK(closed.exit_code == 0);
  }
  INFO("the starter: " << all_of(started));
  CHECK(started.exit_code == 0);
  check_nothing_left(lab, state);
}
