// SPDX-License-Identifier: MIT
// Concurrency: 50 parallel `start`, then 100 `destroy` (two per id at once, all at
// the same time, with `list` running alongside): no record is ever corrupt, each task is
// destroyed exactly once, and both reports for an id are true. And two removers of one task.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "cgspawn/ledger.hpp"
#include "ledger_support.hpp"

using namespace ltest;

TEST_CASE("concurrency: 50 parallel starts, then two parallel destroys per id") {
  constexpr int kTasks = 50;
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  auto id = [](int i) { return "t" + std::to_string(i); };
  auto pidfile = [&](int i) { return work.file("pids-" + std::to_string(i)); };

  std::vector<std::unique_ptr<Child>> starts;
  for (int i = 0; i < kTasks; ++i)
    starts.push_back(cg.spawn(cg.start_args(id(i), workload(pidfile(i), "wait"))));
  for (int i = 0; i < kTasks; ++i) {
    RunResult r = starts[i]->wait();
    INFO(id(i) << ": " << describe_run(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == id(i) + "\n");
  }
  starts.clear();
  for (int i = 0; i < kTasks; ++i) REQUIRE(wait_for_lines(pidfile(i), 2));

  json listed = cg.list_json();
  CHECK(listed.at("corrupt").empty());
  REQUIRE(listed.at("tasks").size() == kTasks);
  std::set<std::string> ids;
  for (const auto& t : listed.at("tasks")) {
    ids.insert(t.at("id").get<std::string>());
    CHECK(t.at("state") == "running");
    CHECK(t.at("owner").at("alive") == true);
    CHECK(t.at("owner").at("kind") == "supervisor");
  }
  CHECK(ids.size() == kTasks);
  CHECK(parent.children().size() == kTasks);
  // The text listing (from the ledger's index, written by 50 supervisors at once) says the same.
  RunResult text = cg.run({"list"});
  INFO(describe_run(text));
  CHECK(text.exit_code == 0);
  for (int i = 0; i < kTasks; ++i)
    CHECK(("\n" + text.out).find("\n" + id(i) + "  running  process") != std::string::npos);

  // All 100 destroys at once, and `list` readers in between: a reader sees whole records.
  std::vector<std::unique_ptr<Child>> destroys, lists;
  for (int i = 0; i < kTasks; ++i)
    for (int k = 0; k < 2; ++k) destroys.push_back(cg.spawn({"destroy", id(i), "--grace", "1s", "--json"}));
  for (int k = 0; k < 5; ++k) lists.push_back(cg.spawn({"list", "--json"}));
  for (int k = 0; k < 5; ++k) lists.push_back(cg.spawn({"list"}));  // the index, changing under it
  for (std::size_t k = 0; k < lists.size(); ++k) {
    RunResult r = lists[k]->wait();
    INFO("concurrent list: " << describe_run(r));
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    if (r.exit_code == 0 && k < 5) CHECK(json::parse(r.out).at("corrupt").empty());
  }
  int acted = 0, concurrent = 0, unknown = 0;
  for (int i = 0; i < kTasks; ++i) {
    CAPTURE(id(i));
    int killed_reports = 0;
    for (int k = 0; k < 2; ++k) {
      RunResult r = destroys[2 * i + k]->wait();
      INFO("destroy " << k << ": " << describe_run(r));
      if (r.exit_code == 3) {
        // The other destroy removed the task before this one found it: nothing to destroy.
        CHECK(r.err.find("\"" + id(i) + "\"") != std::string::npos);
        ++unknown;
        continue;
      }
      REQUIRE(r.exit_code == 0);
      json report = json::parse(r.out);
      CHECK(report.at("schema") == 1);
      CHECK(report.at("id") == id(i));
      CHECK(report.at("cleanup").at("complete") == true);
      const json& rows = report.at("cleanup").at("resources");
      REQUIRE(rows.size() == 1);
      CHECK(rows[0].at("id") == parent.task_path(id(i)));
      if (rows[0].at("outcome") == "destroyed") {
        // The one that acted: its report lists the task's processes as killed.
        std::set<pid_t> killed;
        for (const auto& p : rows[0].at("killed")) killed.insert(p.at("pid").get<pid_t>());
        for (pid_t pid : read_pids(pidfile(i))) CHECK(killed.count(pid) == 1);  // sh and its sleep
        CHECK(report.at("result").at("exit").at("reason") == "destroyed");
        ++killed_reports;
        ++acted;
      } else {
        // The other one: told the truth, it found the task already destroyed by the first.
        CHECK(rows[0].at("outcome") == "already-gone");
        CHECK(rows[0].at("killed").empty());
        CHECK(report.at("note") == "destroyed by a concurrent caller");
        ++concurrent;
      }
    }
    CHECK(killed_reports == 1);
    CHECK_FALSE(exists(parent.task_path(id(i))));
    CHECK_FALSE(exists(state.file(id(i))));
  }
  MESSAGE(acted << " destroys acted, " << concurrent << " found it destroyed by a concurrent caller, "
                << unknown << " found no such task (125)");
  CHECK(acted == kTasks);
  CHECK(acted + concurrent + unknown == 2 * kTasks);

  json after = cg.list_json();
  CHECK(cg.run({"list"}).out.empty());
  CHECK(after.at("tasks").empty());
  CHECK(after.at("orphans").empty());
  CHECK(after.at("corrupt").empty());
  CHECK(parent.children().empty());
  CHECK(processes_below(parent.relative()).empty());
  CHECK(supervisors_gone());
}

TEST_CASE(
    "concurrency: one id taken by 10 starts and runs at once: exactly one wins, the others are refused") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string go = work.file("go");
  std::vector<std::unique_ptr<Child>> racers;
  for (int k = 0; k < 10; ++k) {
    // The winner holds the id until every other racer has ended (the test then makes `go`): a
    // `run` that ended sooner would free the id, and a later racer could rightly take it.
    auto argv = workload(work.file("pids-" + std::to_string(k)),
                         "while [ ! -e '" + go + "' ]; do sleep 0.05; done; exit 0");
    racers.push_back(cg.spawn(k % 2 ? cg.run_args("same", argv) : cg.start_args("same", argv)));
  }
  // Only a winner runs its workload, which writes its pid file.
  int winner = -1;
  bool found = eventually(
      [&] {
        for (int k = 0; k < 10 && winner < 0; ++k)
          if (!read_pids(work.file("pids-" + std::to_string(k))).empty()) winner = k;
        return winner >= 0;
      },
      60s);
  // A loser that removed the winner's record would make the winner fail too (its updates
  // would find no task directory): one 0 and nine refusals is the proof.
  int won = 0, refused = 0;
  auto tally = [&](Child& racer) {
    RunResult res = racer.wait();
    INFO(describe_run(res));
    if (res.exit_code == 0) {
      ++won;
    } else {
      CHECK(res.exit_code == 125);
      CHECK(res.err.find("\"same\" is already in use") != std::string::npos);
      ++refused;
    }
  };
  for (int k = 0; k < 10; ++k)
    if (k != winner) tally(*racers[k]);
  write_text(go, "");
  REQUIRE_MESSAGE(found, "no racer ran its workload");
  tally(*racers[winner]);
  CHECK(won == 1);
  CHECK(refused == 9);
  json listed = cg.list_json();
  INFO(listed.dump());
  CHECK(listed.at("corrupt").empty());
  CHECK(listed.at("tasks").size() <= 1);  // a winning start leaves its exited record
  CHECK(supervisors_gone());
  check_nothing_left(cg, work.file("pids-0"), false);
}

// A task's owner finishing (it removes its record) while a `destroy` of it settles (it removes
// the record too, having destroyed the task): both are done, neither may fail for what the
// other removed first. A destroy that failed so printed no report: the remote agent's lease
// teardown then had nothing to say of the destroy it had made.
TEST_CASE("concurrency: a task removed by two at once (its owner, a destroy): neither fails, nothing stays") {
  StateDir state;
  cgspawn::Ledger ledger(state.path());
  std::vector<std::string> errors;
  std::mutex errors_lock;
  for (int i = 0; i < 300; ++i) {
    std::string id = "gone" + std::to_string(i);
    cgspawn::TaskRecord r;
    r.id = id;
    r.backend = "process";
    r.argv = {"/bin/true"};
    r.state = cgspawn::TaskState::exited;
    ledger.create(r, false);
    std::string output = ledger.make_output_dir(id);
    for (const char* name : {"stdout", "stderr"}) std::ofstream(output + "/" + name) << "x\n";
    std::atomic<int> ready{0};
    auto remove = [&] {
      ready.fetch_add(1);
      while (ready.load() < 2) {
      }
      try {
        ledger.remove(id);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> hold(errors_lock);
        errors.push_back(e.what());
      }
    };
    std::thread a(remove), b(remove);
    a.join();
    b.join();
    CHECK_FALSE(std::filesystem::exists(ledger.task_dir(id)));
    CHECK_FALSE(std::filesystem::exists(output));
  }
  CAPTURE(errors.size());
  CHECK(errors.empty());
  if (!errors.empty()) MESSAGE(errors.front());
}

// Each task's end removes its parent cgroup and its ledger's output directory once it is the
// last below them. Twenty ends at once, from twenty supervisors (`destroy --label`) or from
// one `reap`'s workers: whichever is last sees the others' gone, so nothing of them is left.
TEST_CASE(
    "concurrency: twenty tasks under a --parent cgspawn made, ended at once: the parent and output go with "
    "the last") {
  constexpr int kTasks = 20;
  for (std::string verb : {"destroy --label", "reap"}) {
    CAPTURE(verb);
    TestParent parent;
    StateDir state;
    Cg cg(parent, state);
    std::string shared = parent.path() + "/made-by-start";
    std::string outputs = state.outside() + "/output";
    for (int i = 0; i < kTasks; ++i) {
      RunResult s = cg.run({"start", "--parent", shared, "--label", "set=twenty", "--id",
                            "t" + std::to_string(i), "--", "sleep", "100"});
      INFO(describe_run(s));
      REQUIRE(s.exit_code == 0);
    }
    REQUIRE(std::distance(std::filesystem::directory_iterator(outputs), {}) == 1);  // this ledger's
    RunResult end;
    if (verb == "reap") {
      json running = cg.list_json();  // named: a range-for over a temporary's member dangles
      for (const auto& t : running.at("tasks"))
        REQUIRE(::kill(t.at("owner").at("pid").get<int>(), SIGKILL) == 0);
      REQUIRE(eventually([&] {
        json now = cg.list_json();
        for (const auto& t : now.at("tasks"))
          if (t.at("owner").at("alive") == true) return false;
        return true;
      }));
      reap_zombies();
      end = cg.run({"reap", "--grace", "0"});
    } else {
      end = cg.run({"destroy", "--label", "set=twenty", "--grace", "0"});
    }
    INFO(describe_run(end));
    CHECK(end.exit_code == 0);
    CHECK(cg.list_json().at("tasks").empty());
    CHECK_FALSE(exists(shared));  // made by cgspawn: removed by whichever task ended last
    CHECK(std::filesystem::is_empty(outputs));
    CHECK(parent.children().empty());
    CHECK(processes_below(parent.relative()).empty());
    CHECK(supervisors_gone());
  }
}
