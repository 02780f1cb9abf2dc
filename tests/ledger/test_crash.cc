// SPDX-License-Identifier: MIT
// Crash safety: SIGKILL `cgspawn run`, `cgspawn start`, `cgspawn destroy`,
// `cgspawn reap` and the supervisor at every crash point (CGSPAWN_CRASH_AT, a -Dcrash_points
// build) and at random moments; after each case `reap` leaves no task, no cgroup and no
// process. Over 100 cases; the seed is printed ($CGSPAWN_TEST_SEED replays a run).
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "ledger_support.hpp"

using namespace ltest;

namespace {

const std::vector<std::string> kSpawnPoints = {"spawn-after-intent", "spawn-after-cgroup",
                                               "spawn-after-launch"};
const std::vector<std::string> kFinishPoints = {"finish-before-destroy", "finish-after-destroy",
                                                "finish-before-record"};
constexpr int kRepeats = 2;       // deterministic cases: each point this many times
constexpr int kRandomCases = 24;  // random-timing cases per kind

int g_cases = 0;

std::mt19937& rng() {
  static std::mt19937 gen = [] {
    unsigned seed = std::random_device{}();
    if (const char* s = std::getenv("CGSPAWN_TEST_SEED"))
      seed = static_cast<unsigned>(std::strtoul(s, nullptr, 10));
    MESSAGE("random timings: CGSPAWN_TEST_SEED=" << seed);
    return std::mt19937(seed);
  }();
  return gen;
}

std::chrono::microseconds random_delay() {
  return std::chrono::microseconds(std::uniform_int_distribution<int>(0, 50000)(rng()));
}

// One case: its own parent cgroup, state directory and pid file.
struct Case {
  TestParent parent;
  StateDir state;
  Cg cg{parent, state};
  TempDir work;
  std::string pids = work.file("pids");
  std::string id = "c" + std::to_string(++g_cases);
  ~Case() { reap_zombies(); }
};

int owner_pid(const Cg& cg, const std::string& id) {
  json s = cg.status_json(id);
  return s.is_null() ? 0 : s.at("task").at("owner").at("pid").get<int>();
}

// A started task that runs on (`wait` workload), its supervisor alive.
void start_running(Case& c) {
  RunResult r = c.cg.run(c.cg.start_args(c.id, workload(c.pids, "wait")));
  INFO(describe_run(r));
  REQUIRE(r.exit_code == 0);
  REQUIRE(wait_for_lines(c.pids, 2));
}

void kill_supervisor(Case& c) {
  int pid = owner_pid(c.cg, c.id);
  REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  REQUIRE(supervisors_gone());
}

}  // namespace

TEST_CASE("crash safety: SIGKILL at every crash point and at random moments, then reap") {
  auto started = Clock::now();
  int before = g_cases;

  SUBCASE("deterministic crash points") {
    for (int rep = 0; rep < kRepeats; ++rep) {
      // `cgspawn run` dies at each point of spawn and finish (the task's main exits at once,
      // leaving a sleep behind in its cgroup).
      for (const auto& point : kSpawnPoints) {
        for (const auto& verb : {"run", "start"}) {
          Case c;
          CAPTURE(point);
          CAPTURE(verb);
          auto argv = workload(c.pids, "exit 0");
          RunResult r =
              c.cg.run(std::string(verb) == "run" ? c.cg.run_args(c.id, argv) : c.cg.start_args(c.id, argv),
                       {"CGSPAWN_CRASH_AT=" + point});
          INFO(describe_run(r));
          if (std::string(verb) == "run") {
            CHECK(r.term_signal == SIGKILL);
          } else {  // the supervisor died before it reported
            CHECK(r.exit_code == 125);
            CHECK(r.err.find("supervisor exited before reporting") != std::string::npos);
          }
          CHECK(supervisors_gone());
          check_nothing_left(c.cg, c.pids, false);
        }
      }
      // start: the supervisor dies after taking the id, before it recorded anything; reap
      // frees the id (the empty task directory) once the supervisor is gone.
      {
        Case c;
        RunResult r = c.cg.run(c.cg.start_args(c.id, workload(c.pids, "exit 0")),
                               {"CGSPAWN_CRASH_AT=start-after-reserve"});
        INFO(describe_run(r));
        CHECK(r.exit_code == 125);
        CHECK(supervisors_gone());
        check_nothing_left(c.cg, c.pids, false);
        CHECK_FALSE(std::filesystem::exists(c.state.file(c.id)));
      }
      for (const auto& point : kFinishPoints) {
        // run: the main process exits, `run` dies while finishing.
        {
          Case c;
          CAPTURE(point);
          RunResult r =
              c.cg.run(c.cg.run_args(c.id, workload(c.pids, "exit 0")), {"CGSPAWN_CRASH_AT=" + point});
          INFO(describe_run(r));
          CHECK(r.term_signal == SIGKILL);
          check_nothing_left(c.cg, c.pids, false);
        }
        // start: the supervisor dies while finishing a task whose main process exited.
        {
          Case c;
          CAPTURE(point);
          RunResult r =
              c.cg.run(c.cg.start_args(c.id, workload(c.pids, "exit 0")), {"CGSPAWN_CRASH_AT=" + point});
          INFO(describe_run(r));
          CHECK(r.exit_code == 0);
          CHECK(supervisors_gone());
          check_nothing_left(c.cg, c.pids, false);
        }
        // start, then destroy: the supervisor dies while destroying on request; `destroy`
        // notices and finishes the job itself.
        {
          Case c;
          CAPTURE(point);
          RunResult r =
              c.cg.run(c.cg.start_args(c.id, workload(c.pids, "wait")), {"CGSPAWN_CRASH_AT=" + point});
          INFO(describe_run(r));
          REQUIRE(r.exit_code == 0);
          REQUIRE(wait_for_lines(c.pids, 2));
          RunResult d = c.cg.run({"destroy", c.id, "--grace", "200ms", "--json"});
          INFO("destroy: " << describe_run(d));
          CHECK(d.exit_code == 0);
          json report = json::parse(d.out);
          CHECK(report.at("cleanup").at("complete") == true);
          check_nothing_left(c.cg, c.pids, false);
        }
      }
      // destroy (and reap) die at their own crash points.
      for (const auto& point : {"destroy-before-kill", "destroy-before-remove"}) {
        for (const auto& verb : {"destroy", "reap"}) {
          for (bool supervised : {true, false}) {
            if (std::string(point) == "destroy-before-kill" && supervised) continue;  // the supervisor kills
            if (std::string(verb) == "reap" && supervised) continue;  // reap leaves live owners alone
            Case c;
            CAPTURE(point);
            CAPTURE(verb);
            CAPTURE(supervised);
            start_running(c);
            if (!supervised) kill_supervisor(c);
            std::vector<std::string> args = {verb, "--grace", "200ms"};
            if (std::string(verb) == "destroy") args.insert(args.begin() + 1, c.id);
            RunResult r = c.cg.run(args, {std::string("CGSPAWN_CRASH_AT=") + point});
            INFO(describe_run(r));
            CHECK(r.term_signal == SIGKILL);
            CHECK(supervisors_gone());
            check_nothing_left(c.cg, c.pids, false);
          }
        }
      }
    }
  }

  SUBCASE("random moments") {
    for (int i = 0; i < kRandomCases; ++i) {
      // `run` killed 0-50 ms after it started.
      {
        Case c;
        auto delay = random_delay();
        CAPTURE(delay.count());
        auto child = c.cg.spawn(c.cg.run_args(c.id, workload(c.pids, "wait")));
        std::this_thread::sleep_for(delay);
        child->signal(SIGKILL);
        RunResult r = child->wait();
        INFO(describe_run(r));
        CHECK(r.term_signal == SIGKILL);  // its task never ends by itself
        check_nothing_left(c.cg, c.pids, false);
      }
      // `start` killed 0-50 ms after it started: the supervisor, once it has the request,
      // carries on and owns the task.
      {
        Case c;
        auto delay = random_delay();
        CAPTURE(delay.count());
        auto child = c.cg.spawn(c.cg.start_args(c.id, workload(c.pids, "wait")));
        std::this_thread::sleep_for(delay);
        child->signal(SIGKILL);
        RunResult r = child->wait();
        INFO(describe_run(r));
        CHECK((r.term_signal == SIGKILL || r.exit_code == 0));  // killed, or done before the kill
        // Let the supervisor get as far as it goes: it dies, or it owns a running task.
        settle(c.cg, c.id);
        // Killing `start` must not cost the task its supervisor (a supervisor that died of
        // SIGPIPE reporting to the dead `start` would leave the task running unsupervised).
        json s = c.cg.status_json(c.id);
        if (!s.is_null()) {
          INFO("status: " << s.dump());
          CHECK(s.at("task").at("owner").at("alive") == true);
        }
        check_nothing_left(c.cg, c.pids, true);
      }
      // The supervisor killed 0-50 ms after `start` began.
      {
        Case c;
        auto delay = random_delay();
        CAPTURE(delay.count());
        auto child = c.cg.spawn(c.cg.start_args(c.id, workload(c.pids, "wait")));
        std::this_thread::sleep_for(delay);
        for (pid_t pid : cgspawn_descendants(true)) ::kill(pid, SIGKILL);
        RunResult r = child->wait();
        INFO(describe_run(r));
        CHECK((r.exit_code == 0 || r.exit_code == 125));
        settle(c.cg, c.id);
        check_nothing_left(c.cg, c.pids, true);  // a supervisor forked after the kill lives
      }
      // `destroy` killed 0-50 ms after it started.
      {
        Case c;
        start_running(c);
        auto delay = random_delay();
        CAPTURE(delay.count());
        auto child = c.cg.spawn({"destroy", c.id, "--grace", "200ms"});
        std::this_thread::sleep_for(delay);
        child->signal(SIGKILL);
        RunResult r = child->wait();
        INFO(describe_run(r));
        CHECK((r.term_signal == SIGKILL || r.exit_code == 0));  // killed, or done before the kill
        // A supervisor that got the request finishes on its own; one that did not still owns a
        // running task, which check_nothing_left then destroys (either way, nothing is left).
        if (!supervisors_gone(std::chrono::seconds(2))) {
          json s = c.cg.status_json(c.id);
          INFO("status: " << s.dump());
          CHECK((s.is_null() || s.at("task").at("owner").at("alive") == true));
        }
        check_nothing_left(c.cg, c.pids, true);
      }
      // The supervisor killed 0-50 ms after `destroy` asked it to act: destroy acts itself.
      {
        Case c;
        start_running(c);
        int supervisor = owner_pid(c.cg, c.id);
        REQUIRE(supervisor > 0);
        auto delay = random_delay();
        CAPTURE(delay.count());
        auto child = c.cg.spawn({"destroy", c.id, "--grace", "200ms", "--json"});
        std::this_thread::sleep_for(delay);
        ::kill(supervisor, SIGKILL);
        RunResult d = child->wait();
        INFO("destroy: " << describe_run(d));
        CHECK(d.exit_code == 0);
        if (d.exit_code == 0) CHECK(json::parse(d.out).at("cleanup").at("complete") == true);
        check_nothing_left(c.cg, c.pids, false);
      }
    }
  }

  MESSAGE((g_cases - before) << " crash cases in " << seconds_since(started) << " s");
}

TEST_CASE("crash safety: at least 100 cases ran") {
  CHECK(g_cases >= 100);
}
