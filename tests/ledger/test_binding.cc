// SPDX-License-Identifier: MIT
// Tasks bound to a process die with it (the library's bound_to, `start --bind-pid`), and its
// watcher leaves no ledger behind that was removed meanwhile (and `reap` destroys them where it
// was killed); and what
// runners running tasks in parallel need of the CLI: a parent two starts share goes with the
// last, `start --json`, `destroy --label`, "nothing to destroy" told from a failure, output on
// disk, no file left by a killed `wait --result`, no zombie left by a double-forked daemon.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cgspawn/cgspawn.hpp"
#include "ledger_support.hpp"

using namespace ltest;
using namespace std::chrono_literals;

namespace {

// A process to bind tasks to, killed by the test.
struct Sleeper {
  pid_t pid = ::fork();
  Sleeper() {
    if (pid == 0) {
      ::execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Sleeper() { kill(); }
  void kill() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

// The time from `start` until the task's processes are all gone and its record removed.
bool gone_within(const Cg& cg, const std::string& pidfile, std::chrono::seconds bound) {
  auto pids = identify(read_pids(pidfile));
  return eventually([&] { return still_alive(pids, 0ms).empty() && cg.list_json().at("tasks").empty(); },
                    bound);
}

bool no_such_process(pid_t pid) {
  return !exists("/proc/" + std::to_string(pid));
}

// The processes watching a bound process for the ledger `dir` (`cgspawn-supervisor --watch DIR`).
std::vector<pid_t> watchers_of(const std::string& dir) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline");
    std::string arg0, arg1, arg2;
    if (std::getline(in, arg0, '\0') && std::getline(in, arg1, '\0') && std::getline(in, arg2, '\0') &&
        arg1 == "--watch" && arg2 == dir)
      found.push_back(std::stoi(entry.path().filename()));
  }
  return found;
}

}  // namespace

TEST_CASE(
    "start --bind-pid: the task is destroyed within 5 s of that process's death, the ledger left empty") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  Sleeper owner;
  std::vector<std::string> files;
  for (int i = 0; i < 3; ++i) {  // several tasks of one bound process: one watcher for them all
    files.push_back(work.file("pids" + std::to_string(i)));
    auto args = cg.start_args("bound" + std::to_string(i), workload(files.back(), "trap '' TERM; wait"));
    args.insert(args.begin() + 1, {"--bind-pid", std::to_string(owner.pid)});
    RunResult s = cg.run(args);
    INFO(describe_run(s));
    REQUIRE(s.exit_code == 0);
    REQUIRE(wait_for_lines(files.back(), 2));
  }
  json task = cg.status_json("bound0").at("task");
  CHECK(task.at("bound_to").at("pid") == owner.pid);
  owner.kill();
  auto killed = Clock::now();
  for (const auto& f : files) CHECK(gone_within(cg, f, 5s));
  CAPTURE(seconds_since(killed));
  CHECK(seconds_since(killed) < 5.0);
  check_nothing_left(cg, files[0], false);
}

TEST_CASE("a task the library binds to its caller is destroyed when the caller is SIGKILLed") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pids = work.file("pids");
  pid_t caller = ::fork();
  if (caller == 0) {  // a runner that links the library: spawns a bound task and hangs
    auto ledger = std::make_shared<const cgspawn::Ledger>(state.path());
    auto spawner = cgspawn::make_process_spawner({parent.path(), ledger});
    cgspawn::TaskSpec spec;
    spec.id = "bound-lib";
    spec.argv = workload(pids, "wait");
    spec.bound_to = ::getpid();
    auto task = spawner->spawn(spec);
    ::pause();
    ::_exit(0);
  }
  REQUIRE(caller > 0);
  REQUIRE(wait_for_lines(pids, 2));
  ::kill(caller, SIGKILL);
  ::waitpid(caller, nullptr, 0);
  CHECK(gone_within(cg, pids, 5s));
  check_nothing_left(cg, pids, false);
}

TEST_CASE("reap destroys a task whose bound process is gone where its watcher was killed before it") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  Sleeper owner;
  std::string pids = work.file("pids");
  auto args = cg.start_args("unwatched", workload(pids, "wait"));
  args.insert(args.begin() + 1, {"--bind-pid", std::to_string(owner.pid)});
  REQUIRE(cg.run(args).exit_code == 0);
  REQUIRE(wait_for_lines(pids, 2));
  auto watcher = identify(watchers_of(state.path()));
  REQUIRE(watcher.size() == 1);
  REQUIRE(::kill(watcher[0].pid, SIGKILL) == 0);
  REQUIRE(still_alive(watcher, 5s).empty());
  owner.kill();
  std::this_thread::sleep_for(500ms);  // nobody watches: the task runs on, its supervisor alive
  json task = cg.status_json("unwatched").at("task");
  CHECK(task.at("state") == "running");
  CHECK(task.at("owner").at("alive") == true);

  RunResult reap = cg.run({"reap", "--grace", "0s"});
  INFO(describe_run(reap));
  CHECK(reap.exit_code == 0);
  CHECK(gone_within(cg, pids, 5s));
  check_nothing_left(cg, pids, false);
}

TEST_CASE("the watcher of a bound process does not make again a state directory removed meanwhile") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  Sleeper owner;
  auto args = cg.start_args("short", {"/bin/true"});
  args.insert(args.begin() + 1, {"--bind-pid", std::to_string(owner.pid)});
  REQUIRE(cg.run(args).exit_code == 0);
  auto watcher = identify(watchers_of(state.path()));
  REQUIRE(watcher.size() == 1);
  CHECK(cg.run({"destroy", "short"}).exit_code == 0);
  std::filesystem::remove_all(state.path());  // a runner done with its ledger, its owner still alive
  owner.kill();
  CHECK(still_alive(watcher, 5s).empty());
  CHECK_FALSE(exists(state.path()));
}

TEST_CASE("bound to a process that does not exist: refused, nothing made") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  Sleeper gone;
  pid_t pid = gone.pid;
  gone.kill();
  auto args = cg.start_args("unbound", {"/bin/true"});
  args.insert(args.begin() + 1, {"--bind-pid", std::to_string(pid)});
  RunResult s = cg.run(args);
  INFO(describe_run(s));
  CHECK(s.exit_code == 125);
  CHECK(s.err.find("no such process") != std::string::npos);
  CHECK(cg.list_json().at("tasks").empty());
  CHECK(parent.children().empty());
}

TEST_CASE("two overlapping starts under a --parent the first one made: the parent goes with the last task") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  std::string shared = parent.path() + "/made-by-start";
  auto start = [&](const std::string& id) {
    RunResult s = cg.run({"start", "--parent", shared, "--grace", "200ms", "--id", id, "--", "sleep", "100"});
    INFO(describe_run(s));
    REQUIRE(s.exit_code == 0);
  };
  start("first");
  start("second");
  CHECK(exists(shared));
  CHECK(cg.run({"destroy", "first", "--grace", "200ms"}).exit_code == 0);
  CHECK(exists(shared));  // the second task still lives below it
  CHECK(cg.run({"destroy", "second", "--grace", "200ms"}).exit_code == 0);
  CHECK_FALSE(exists(shared));  // made by cgspawn, removed by whichever ended last
  CHECK(parent.children().empty());
}

TEST_CASE(
    "start --json: the id, main pid, resources and output paths in one call; plain start prints the id") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  auto args = cg.start_args("asjson", {"sleep", "100"});
  args.insert(args.begin() + 1, "--json");
  RunResult s = cg.run(args);
  INFO(describe_run(s));
  REQUIRE(s.exit_code == 0);
  json j = json::parse(s.out);
  CHECK(j.at("schema") == 1);
  const json& task = j.at("task");
  CHECK(task.at("id") == "asjson");
  CHECK(task.at("state") == "running");
  CHECK(task.at("main_pid").get<int>() > 0);
  CHECK(task.at("resources").at(0).at("id") == parent.task_path("asjson"));
  std::string out = task.at("stdout");
  CHECK(out.rfind(cgspawn::Ledger::output_root() + "/", 0) == 0);  // on disk, not in the ledger
  CHECK(exists(out));
  RunResult plain = cg.run(cg.start_args("plain", {"sleep", "100"}));
  CHECK(plain.out == "plain\n");
  CHECK(cg.run({"destroy", "asjson", "--grace", "100ms"}).exit_code == 0);
  CHECK_FALSE(exists(out));  // the output goes with the record
  CHECK(cg.run({"destroy", "plain", "--grace", "100ms"}).exit_code == 0);
}

TEST_CASE("destroy --label: every matching task in one call and one report; destroy of a gone task exits 3") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  for (const char* id : {"l1", "l2", "l3"}) {
    auto args = cg.start_args(id, {"sleep", "100"});
    args.insert(args.begin() + 1, {"--label", std::string("batch=") + (std::string(id) == "l3" ? "b" : "a")});
    REQUIRE(cg.run(args).exit_code == 0);
  }
  RunResult d = cg.run({"destroy", "--label", "batch=a", "--grace", "100ms", "--json"});
  INFO(describe_run(d));
  CHECK(d.exit_code == 0);
  json report = json::parse(d.out);
  CHECK(report.at("complete") == true);
  CHECK(report.at("tasks").size() == 2);
  json left = cg.list_json();
  REQUIRE(left.at("tasks").size() == 1);
  CHECK(left.at("tasks").at(0).at("id") == "l3");
  RunResult again = cg.run({"destroy", "--label", "batch=a"});
  CHECK(again.exit_code == 3);
  RunResult gone = cg.run({"destroy", "l1"});
  INFO(describe_run(gone));
  CHECK(gone.exit_code == 3);
  CHECK(gone.err.find("nothing to destroy") != std::string::npos);
  RunResult both = cg.run({"destroy", "l3", "--label", "batch=b"});
  CHECK(both.exit_code == 125);
  CHECK(cg.run({"destroy", "l3", "--grace", "100ms"}).exit_code == 0);
}

TEST_CASE("wait --result FILE killed by a signal leaves no temporary file") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  REQUIRE(cg.run(cg.start_args("waited", {"sleep", "100"})).exit_code == 0);
  std::string result = work.file("result.json");
  auto waiter = cg.spawn({"wait", "waited", "--result", result});
  REQUIRE(eventually([&] { return exists("/proc/" + std::to_string(waiter->pid())); }));
  std::this_thread::sleep_for(300ms);  // well into its wait
  waiter->signal(SIGTERM);
  waiter->wait();
  auto entries = std::vector<std::string>();
  for (const auto& e : std::filesystem::directory_iterator(work.path())) entries.push_back(e.path().string());
  CAPTURE(entries.size());
  CHECK(entries.empty());
  CHECK(cg.run({"destroy", "waited", "--grace", "100ms"}).exit_code == 0);
}

TEST_CASE("the supervisor reaps its task's orphans: a double-forked daemon leaves no zombie") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pidfile = work.file("daemon");
  // The subshell forks the daemon and exits: the daemon is an orphan from the start.
  std::string script =
      "(setsid sh -c 'echo $$ > \"$1\"; exec sleep 1000' sh \"$1\" &); "
      "while [ ! -s \"$1\" ]; do sleep 0.05; done; exit 0";
  REQUIRE(cg.run(cg.start_args("orphans", {"/bin/sh", "-c", script, "sh", pidfile})).exit_code == 0);
  REQUIRE(wait_for_lines(pidfile, 1));
  pid_t daemon = read_pids(pidfile).at(0);
  REQUIRE(eventually([&] { return cg.status_json("orphans").at("task").at("state") == "exited"; }));
  // Gone altogether, not a zombie waiting for a PID 1 that may never reap it.
  CHECK(eventually([&] { return no_such_process(daemon); }, 5s));
  CHECK(cg.run({"destroy", "orphans", "--grace", "100ms"}).exit_code == 0);
}
