// Tasks that outlive `start` (issue 3): listed, status, wait, destroy; corrupt records;
// orphan cgroups whose record was lost; a supervisor whose `start` died before the report.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include "ledger_support.hpp"
#include "supervisor/spec_json.hpp"

using namespace ltest;

namespace {

// "a1 c3": the ids of a listing's (or reap report's) tasks, sorted.
std::string task_ids(const json& listing) {
  std::set<std::string> ids;
  for (const auto& t : listing.at("tasks")) ids.insert(t.at("id").get<std::string>());
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : " ") + id;
  return out;
}

}  // namespace

TEST_CASE("long-lived: a started task is listed, waited for and destroyed by later commands") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pids = work.file("pids");

  RunResult s = cg.run(cg.start_args("long", workload(pids, "wait")));
  INFO(describe_run(s));
  REQUIRE(s.exit_code == 0);
  CHECK(s.out == "long\n");
  REQUIRE(wait_for_lines(pids, 2));
  auto processes = identify(read_pids(pids));

  // `start` has exited; the task runs on, listed with schema 1.
  json l = cg.list_json();
  CHECK(l.at("schema") == 1);
  REQUIRE(l.at("tasks").size() == 1);
  const json& t = l.at("tasks")[0];
  CHECK(t.at("schema") == 1);
  CHECK(t.at("id") == "long");
  CHECK(t.at("backend") == "process");
  CHECK(t.at("state") == "running");
  CHECK(t.at("argv") == json(workload(pids, "wait")));
  CHECK(t.at("owner").at("kind") == "supervisor");
  CHECK(t.at("owner").at("alive") == true);
  CHECK(t.at("owner").at("pid").is_number_integer());
  CHECK(t.at("main_pid") == processes[0].pid);
  CHECK(t.at("stdout") == state.file("long/stdout"));  // the defaults, in the task's directory
  CHECK(t.at("stderr") == state.file("long/stderr"));
  CHECK(t.at("result").is_null());
  REQUIRE(t.at("resources").size() == 1);
  CHECK(t.at("resources")[0].at("kind") == "cgroup");
  CHECK(t.at("resources")[0].at("id") == parent.task_path("long"));
  CHECK(t.at("resources")[0].at("state") == "created");
  CHECK(l.at("orphans").empty());
  CHECK(l.at("corrupt").empty());

  json st = cg.status_json("long");
  REQUIRE_FALSE(st.is_null());
  CHECK(st.at("schema") == 1);
  CHECK(st.at("task").at("state") == "running");
  RunResult text = cg.run({"status", "long"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("running") != std::string::npos);

  RunResult w = cg.run({"wait", "long", "--timeout", "200ms"});
  INFO(describe_run(w));
  CHECK(w.exit_code == 123);
  CHECK(w.seconds >= 0.19);
  CHECK(w.err.find("still running") != std::string::npos);

  // `reap` leaves a task with a live owner alone.
  RunResult reap = cg.run({"reap"});
  CHECK(reap.exit_code == 0);
  CHECK(cg.status_json("long").at("task").at("state") == "running");

  RunResult d = cg.run({"destroy", "long", "--grace", "200ms", "--json"});
  INFO(describe_run(d));
  CHECK(d.exit_code == 0);
  json report = json::parse(d.out);
  CHECK(report.at("schema") == 1);
  CHECK(report.at("cleanup").at("complete") == true);
  REQUIRE(report.at("cleanup").at("resources").size() == 1);
  const json& row = report.at("cleanup").at("resources")[0];
  CHECK(row.at("outcome") == "destroyed");
  std::set<pid_t> killed;
  for (const auto& p : row.at("killed")) killed.insert(p.at("pid").get<pid_t>());
  for (const auto& p : processes) CHECK(killed.count(p.pid) == 1);
  CHECK(still_alive(processes).empty());
  CHECK_FALSE(exists(parent.task_path("long")));
  CHECK(cg.list_json().at("tasks").empty());

  RunResult again = cg.run({"destroy", "long"});
  CHECK(again.exit_code == 125);
  CHECK(again.err.find("no task \"long\"") != std::string::npos);
  RunResult unknown = cg.run({"destroy", "never-was"});
  CHECK(unknown.exit_code == 125);
  CHECK(unknown.err.find("\"never-was\"") != std::string::npos);
  for (const char* verb : {"status", "wait"}) {
    RunResult r = cg.run({verb, "never-was"});
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("\"never-was\"") != std::string::npos);
  }
  CHECK(supervisors_gone());
}

TEST_CASE("long-lived: wait gives the exit status as run does; the record stays until destroy") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  RunResult s = cg.run(cg.start_args("seven", {"/bin/sh", "-c", "sleep 0.2; exit 7"}));
  REQUIRE(s.exit_code == 0);
  RunResult w = cg.run({"wait", "seven", "--result", state.outside() + "/result.json"});
  INFO(describe_run(w));
  CHECK(w.exit_code == 7);
  json result = json::parse(read_text(state.outside() + "/result.json").value_or("null"));
  CHECK(result.at("exit").at("code") == 7);
  // Again, after the end: the same answer.
  CHECK(cg.run({"wait", "seven", "--timeout", "200ms"}).exit_code == 7);
  json st = cg.status_json("seven");
  CHECK(st.at("task").at("state") == "exited");
  CHECK(st.at("task").at("result").at("exit").at("code") == 7);
  CHECK_FALSE(exists(parent.task_path("seven")));  // the supervisor destroyed the cgroup at once
  CHECK(supervisors_gone());

  RunResult killed = cg.run(cg.start_args("killed", {"/bin/sh", "-c", "kill -USR1 $$"}));
  REQUIRE(killed.exit_code == 0);
  CHECK(cg.run({"wait", "killed"}).exit_code == 128 + SIGUSR1);

  RunResult d = cg.run({"destroy", "seven", "--json"});
  INFO(describe_run(d));
  CHECK(d.exit_code == 0);
  CHECK(json::parse(d.out).at("result").at("exit").at("code") == 7);
  CHECK(cg.run({"destroy", "killed"}).exit_code == 0);
  CHECK(cg.list_json().at("tasks").empty());
  CHECK(cg.run({"wait", "seven"}).exit_code == 125);
  CHECK(parent.children().empty());
  CHECK(supervisors_gone());
}

TEST_CASE("corrupt record: list names the file and lists the others; reap reaps the others") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  for (const char* id : {"a1", "b2", "c3"}) {
    RunResult s = cg.run(cg.start_args(id, {"/bin/true"}));
    REQUIRE(s.exit_code == 0);
  }
  // Each has ended; its supervisor has recorded the Result and gone.
  REQUIRE(eventually([&] {
    json l = cg.list_json();
    if (l.at("tasks").size() != 3) return false;
    for (const auto& t : l.at("tasks"))
      if (t.at("state") != "exited" || t.at("owner").at("alive") == true) return false;
    return true;
  }));
  SUBCASE("garbage") { write_text(state.file("b2/record.json"), "\x01garbage{{{", 0600); }
  SUBCASE("truncated") {
    std::string text = read_text(state.file("b2/record.json")).value_or("");
    write_text(state.file("b2/record.json"), text.substr(0, text.size() / 2), 0600);
  }
  SUBCASE("empty") { write_text(state.file("b2/record.json"), "", 0600); }
  SUBCASE("valid JSON of the wrong shape") { write_text(state.file("b2/record.json"), "{\"id\": 5}\n", 0600); }
  std::string file = state.file("b2/record.json");

  RunResult text = cg.run({"list"});
  INFO(describe_run(text));
  CHECK(text.exit_code == 0);
  CHECK(text.err.find(file) != std::string::npos);
  CHECK(text.out.find("a1") != std::string::npos);
  CHECK(text.out.find("c3") != std::string::npos);
  json l = cg.list_json();
  CHECK(task_ids(l) == "a1 c3");
  REQUIRE(l.at("corrupt").size() == 1);
  CHECK(l.at("corrupt")[0].get<std::string>().find(file) != std::string::npos);
  CHECK(l.at("orphans").empty());

  RunResult reap = cg.run({"reap", "--json"});
  INFO(describe_run(reap));
  json reaped = json::parse(reap.out);
  CHECK(task_ids(reaped) == "a1 c3");
  REQUIRE(reaped.at("corrupt").size() == 1);
  CHECK(reaped.at("corrupt")[0].get<std::string>().find(file) != std::string::npos);
  CHECK(reap.err.find(file) != std::string::npos);  // reap says what it could not read
  CHECK(reap.exit_code == 1);                        // and that something may be left
  json after = cg.list_json();
  CHECK(after.at("tasks").empty());
  CHECK(after.at("corrupt").size() == 1);
  CHECK_FALSE(exists(state.file("a1")));
  CHECK_FALSE(exists(state.file("c3")));
  CHECK(exists(file));  // never removed behind the user's back
  CHECK(parent.children().empty());
  CHECK(supervisors_gone());
}

TEST_CASE("orphans: a task cgroup whose record was lost is listed, reported by reap, destroyed by reap --orphans") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pids = work.file("pids");
  REQUIRE(cg.run(cg.start_args("lost", workload(pids, "wait"))).exit_code == 0);
  REQUIRE(cg.run(cg.start_args("kept", {"/bin/sleep", "100"})).exit_code == 0);
  REQUIRE(wait_for_lines(pids, 2));
  auto processes = identify(read_pids(pids));
  bool supervisor_killed = false;
  SUBCASE("the supervisor died too") {
    int owner = cg.status_json("lost").at("task").at("owner").at("pid");
    ::kill(owner, SIGKILL);
    REQUIRE(eventually([&] { return cg.status_json("lost").at("task").at("owner").at("alive") == false; }));
    supervisor_killed = true;
  }
  SUBCASE("the supervisor lives on") {}
  REQUIRE(::unlink(state.file("lost/record.json").c_str()) == 0);

  RunResult text = cg.run({"list"});
  CHECK(text.out.find("orphan cgroup " + parent.task_path("lost")) != std::string::npos);
  json l = cg.list_json();
  CHECK(task_ids(l) == "kept");
  REQUIRE(l.at("orphans").size() == 1);
  CHECK(l.at("orphans")[0].at("id") == parent.task_path("lost"));
  CHECK(l.at("orphans")[0].at("ours") == true);

  RunResult reap = cg.run({"reap"});
  INFO(describe_run(reap));
  CHECK(reap.exit_code == 1);
  CHECK(reap.out.find(parent.task_path("lost")) != std::string::npos);
  CHECK(reap.out.find("reap --orphans") != std::string::npos);
  CHECK(exists(parent.task_path("lost")));
  CHECK(still_alive(processes, std::chrono::milliseconds(0)).size() == 2);  // reported, not touched

  RunResult orphans = cg.run({"reap", "--orphans", "--grace", "200ms", "--json"});
  INFO(describe_run(orphans));
  CHECK(orphans.exit_code == 0);
  json r = json::parse(orphans.out);
  CHECK(r.at("complete") == true);
  REQUIRE(r.at("orphans").at("resources").size() == 1);
  const json& row = r.at("orphans").at("resources")[0];
  CHECK(row.at("id") == parent.task_path("lost"));
  CHECK(row.at("outcome") == "destroyed");
  std::set<pid_t> killed;
  for (const auto& p : row.at("killed")) killed.insert(p.at("pid").get<pid_t>());
  for (const auto& p : processes) CHECK(killed.count(p.pid) == 1);
  CHECK(still_alive(processes).empty());
  CHECK_FALSE(exists(parent.task_path("lost")));
  // "kept" (its owner alive) is untouched.
  CHECK(cg.status_json("kept").at("task").at("state") == "running");
  CHECK(exists(parent.task_path("kept")));

  if (!supervisor_killed) {
    // The live supervisor saw its task end and recorded the Result again: collect it.
    REQUIRE(eventually([&] {
      json s = cg.status_json("lost");
      return !s.is_null() && s.at("task").at("state") == "exited" && s.at("task").at("owner").at("alive") == false;
    }));
    CHECK(cg.run({"reap"}).exit_code == 0);
  }
  CHECK(cg.run({"destroy", "kept", "--grace", "200ms"}).exit_code == 0);
  json after = cg.list_json();
  CHECK(after.at("tasks").empty());
  CHECK(after.at("orphans").empty());
  CHECK(parent.children().empty());
  CHECK(processes_below(parent.relative()).empty());
  CHECK(supervisors_gone());
}

TEST_CASE("a supervisor whose `start` is gone before the report still owns its task") {
  // Deterministically what a SIGKILL of `start` at the wrong moment does: fd 3 (the report
  // pipe) has no reader any more when the supervisor reports.
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  std::string supervisor = std::filesystem::path(cgspawn_bin()).parent_path() / "cgspawn-supervisor";
  cgspawn::supervisor::StartRequest request;  // in the format `start` writes
  request.spec.argv = {"/bin/sleep", "100"};
  request.spec.cwd = "/";
  request.spec.grace = std::chrono::milliseconds(200);
  request.spec.id = "nostart";
  request.state_dir = state.path();
  request.backend.parent = parent.path();
  write_text(state.outside() + "/request.json", cgspawn::supervisor::to_json(request), 0600);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);  // no reader: as if `start` was killed
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 3);
    int in = ::open((state.outside() + "/request.json").c_str(), O_RDONLY);
    ::dup2(in, 0);
    ::execl(supervisor.c_str(), "cgspawn-supervisor", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  REQUIRE(pid > 0);
  REQUIRE(eventually([&] {
    json s = cg.status_json("nostart");
    return !s.is_null() && s.at("task").at("state") == "running";
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // past the report
  json s = cg.status_json("nostart");
  INFO(s.dump());
  CHECK(s.at("task").at("owner").at("pid") == pid);
  CHECK(s.at("task").at("owner").at("alive") == true);
  RunResult d = cg.run({"destroy", "nostart", "--grace", "200ms"});
  INFO(describe_run(d));
  CHECK(d.exit_code == 0);
  CHECK(parent.children().empty());
  CHECK(supervisors_gone());
}

TEST_CASE("start --stdout/--stderr FILE: the task's output goes there, and the record says where") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::vector<std::string> args = {"start", "--parent", parent.path(), "--id", "out", "--stdout", work.file("o"),
                                   "--stderr", work.file("e"), "--", "/bin/sh", "-c", "echo to-out; echo to-err >&2"};
  RunResult s = cg.run(args);
  INFO(describe_run(s));
  REQUIRE(s.exit_code == 0);
  RunResult w = cg.run({"wait", "out", "--timeout", "30s"});
  CHECK(w.exit_code == 0);
  CHECK(read_text(work.file("o")).value_or("") == "to-out\n");
  CHECK(read_text(work.file("e")).value_or("") == "to-err\n");
  json t = cg.status_json("out").at("task");
  CHECK(t.at("stdout") == work.file("o"));
  CHECK(t.at("stderr") == work.file("e"));
  RunResult d = cg.run({"destroy", "out"});
  CHECK(d.exit_code == 0);
  CHECK(read_text(work.file("o")).value_or("") == "to-out\n");  // the user's files stay
  check_nothing_left(cg, work.file("none"), false);
}
