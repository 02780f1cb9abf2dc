// SPDX-License-Identifier: MIT
// Tasks that outlive `start`: listed, status, wait, destroy; corrupt records;
// orphan cgroups whose record was lost; a supervisor whose `start` died before the report;
// --label filters, start --timeout, start's refusals, an incomplete destroy, an owner that
// died under `wait`, an owner whose pid another process has taken.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "freezer.hpp"
#include "ledger_support.hpp"
#include "supervisor/start_request.hpp"

using namespace ltest;

namespace {

// Whether PID holds a pidfd (an fd whose link reads anon_inode:[pidfd]).
bool holds_pidfd(pid_t pid) {
  auto targets = fd_targets(pid);
  return std::count(targets.begin(), targets.end(), "anon_inode:[pidfd]") > 0;
}

// Moves process `pid` into `cgroup` (its cgroup.procs).
bool move_into(const std::string& cgroup, pid_t pid) {
  std::ofstream procs(cgroup + "/cgroup.procs");
  procs << pid << std::flush;
  return static_cast<bool>(procs);
}

// A `sleep 600` of the test's own that is given pid `pid` (clone3's set_tid, as CRIU restores
// a process): a reused pid, made deterministically. Killed and reaped when it goes.
class PidTaker {
 public:
  explicit PidTaker(pid_t pid) {
    pid_t tid[1] = {pid};
    clone_args args{};
    args.exit_signal = SIGCHLD;
    args.set_tid = reinterpret_cast<std::uint64_t>(tid);
    args.set_tid_size = 1;
    long got = ::syscall(SYS_clone3, &args, sizeof args);
    error_ = got < 0 ? std::strerror(errno) : "";
    if (got == 0) {
      ::execl("/bin/sleep", "sleep", "600", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pid_ = static_cast<pid_t>(got);
  }
  ~PidTaker() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  PidTaker(const PidTaker&) = delete;
  PidTaker& operator=(const PidTaker&) = delete;
  pid_t pid() const { return pid_; }
  const std::string& error() const { return error_; }  // why clone3 failed

 private:
  pid_t pid_ = -1;
  std::string error_;
};

// "a1 c3": the ids of a listing's (or reap report's) tasks, sorted.
std::string task_ids(const json& listing) {
  std::set<std::string> ids;
  for (const auto& t : listing.at("tasks")) ids.insert(t.at("id").get<std::string>());
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : " ") + id;
  return out;
}

// `start` with OPTIONS before the `--` of start_args.
std::vector<std::string> start_with(const Cg& cg, const std::string& id,
                                    const std::vector<std::string>& options,
                                    const std::vector<std::string>& argv) {
  auto args = cg.start_args(id, argv);
  args.insert(args.begin() + 1, options.begin(), options.end());
  return args;
}

// Starts a1, b2 and c3 (/bin/true, with OPTIONS) and waits until each has ended and its
// supervisor has recorded the Result and gone.
void start_three_ended(const Cg& cg, const std::vector<std::string>& options) {
  for (const char* id : {"a1", "b2", "c3"}) {
    RunResult s = cg.run(start_with(cg, id, options, {"/bin/true"}));
    REQUIRE(s.exit_code == 0);
  }
  REQUIRE(eventually([&] {
    json l = cg.list_json();
    if (l.at("tasks").size() != 3) return false;
    for (const auto& t : l.at("tasks"))
      if (t.at("state") != "exited" || t.at("owner").at("alive") == true) return false;
    return true;
  }));
}

// SIGKILLs the task's supervisor and waits until the ledger sees its owner gone. (Not reaped
// here: a Child may be waited for meanwhile; check_nothing_left reaps it.)
void kill_owner(const Cg& cg, const std::string& id) {
  json s = cg.status_json(id);
  REQUIRE_FALSE(s.is_null());
  REQUIRE(::kill(s.at("task").at("owner").at("pid").get<int>(), SIGKILL) == 0);
  REQUIRE(eventually([&] { return cg.status_json(id).at("task").at("owner").at("alive") == false; }));
}

// check_nothing_left when the case ends, also when a REQUIRE ended it early (then a live
// owner is no finding of its own: the case stopped before destroying).
struct NothingLeft {
  const Cg& cg;
  std::string pidfile;
  ~NothingLeft() {
    try {
      check_nothing_left(cg, pidfile, std::uncaught_exceptions() > 0);
    } catch (...) {  // a REQUIRE inside it: already reported, and nothing may escape a destructor
    }
  }
};

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
  // The defaults: on disk, in a directory of the task's own, not in the ledger's tmpfs.
  auto ledger = cgspawn::Ledger(state.path());
  CHECK(t.at("stdout") == ledger.output_dir("long") + "/stdout");
  CHECK(t.at("stderr") == ledger.output_dir("long") + "/stderr");
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
  CHECK(d.err.empty());  // on success nothing on stderr (docs/cli.md), so scripts can use it in bulk
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

  CHECK_FALSE(exists(ledger.output_dir("long")));  // the output went with the record
  RunResult again = cg.run({"destroy", "long"});
  CHECK(again.exit_code == 3);  // nothing to destroy
  CHECK(again.err.find("no task \"long\"") != std::string::npos);
  RunResult unknown = cg.run({"destroy", "never-was"});
  CHECK(unknown.exit_code == 3);
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
  RunResult text = cg.run({"destroy", "killed"});
  CHECK(text.exit_code == 0);
  CHECK(text.err.empty());  // the report in text goes to stdout too
  CHECK(cg.list_json().at("tasks").empty());
  CHECK(cg.run({"wait", "seven"}).exit_code == 125);
  CHECK(parent.children().empty());
  CHECK(supervisors_gone());
}

TEST_CASE("corrupt record: list names the file it reads and lists the others; reap reaps the others") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  start_three_ended(cg, {});
  SUBCASE("garbage") {
    write_text(state.file("b2/record.json"), "\x01garbage{{{", 0600);
  }
  SUBCASE("truncated") {
    std::string text = read_text(state.file("b2/record.json")).value_or("");
    write_text(state.file("b2/record.json"), text.substr(0, text.size() / 2), 0600);
  }
  SUBCASE("empty") {
    write_text(state.file("b2/record.json"), "", 0600);
  }
  SUBCASE("valid JSON of the wrong shape") {
    write_text(state.file("b2/record.json"), "{\"id\": 5}\n", 0600);
  }
  std::string file = state.file("b2/record.json");

  // The text listing reads the index, which vouches for b2 (changed behind cgspawn's back):
  // it shows b2 as cgspawn last wrote it. Where the index cannot vouch (here: it is lost), it
  // reads the record and names the file.
  RunResult indexed = cg.run({"list"});
  INFO(describe_run(indexed));
  CHECK(indexed.exit_code == 0);
  CHECK(indexed.out.find("b2  exited") != std::string::npos);
  REQUIRE(std::filesystem::remove(state.file(".index")));
  RunResult text = cg.run({"list"});
  INFO(describe_run(text));
  CHECK(text.exit_code == 0);
  CHECK(text.err.find(file) != std::string::npos);
  CHECK(text.out.find("a1") != std::string::npos);
  CHECK(text.out.find("c3") != std::string::npos);
  CHECK(text.out.find("b2") == std::string::npos);
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
  CHECK(reap.exit_code == 1);                       // and that something may be left
  json after = cg.list_json();
  CHECK(after.at("tasks").empty());
  CHECK(after.at("corrupt").size() == 1);
  CHECK_FALSE(exists(state.file("a1")));
  CHECK_FALSE(exists(state.file("c3")));
  CHECK(exists(file));  // never removed behind the user's back
  CHECK(parent.children().empty());
  CHECK(supervisors_gone());
}

// destroy --label finds its tasks in the index, which still vouches for a record changed
// behind cgspawn's back: the record is read under the task's lock, and one that cannot be read
// is named, while the others are destroyed.
TEST_CASE("corrupt record: destroy --label names the file it cannot read and destroys the others") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  start_three_ended(cg, {"--label", "batch=x"});
  std::string file = state.file("b2/record.json");
  write_text(file, "\x01garbage{{{", 0600);

  RunResult d = cg.run({"destroy", "--label", "batch=x", "--json"});
  INFO(describe_run(d));
  CHECK(d.exit_code == 1);  // something may be left: what b2's record names
  json report = json::parse(d.out);
  CHECK(task_ids(report) == "a1 c3");
  REQUIRE(report.at("corrupt").size() == 1);
  CHECK(report.at("corrupt")[0].get<std::string>().find(file) != std::string::npos);
  CHECK(d.err.find(file) != std::string::npos);
  CHECK_FALSE(exists(state.file("a1")));
  CHECK_FALSE(exists(state.file("c3")));
  CHECK(exists(file));  // never removed behind the user's back
  CHECK(parent.children().empty());
  CHECK(supervisors_gone());
}

TEST_CASE(
    "reap: an owner whose pid another process has taken (another start time) is gone; that process is left "
    "alone") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  // The task leaves its supervisor's session: else that session's id would keep the pid in use.
  REQUIRE(cg.run(cg.start_args("reused", {"/usr/bin/setsid", "/bin/sleep", "600"})).exit_code == 0);
  std::string procs = parent.task_path("reused") + "/cgroup.procs";
  REQUIRE(eventually([&] {
    auto pids = read_pids(procs);
    return pids.size() == 1 && wait_for_comm(pids[0], "sleep", std::chrono::milliseconds(0));
  }));
  auto processes = identify(read_pids(procs));
  pid_t owner = cg.status_json("reused").at("task").at("owner").at("pid").get<pid_t>();
  REQUIRE(::kill(owner, SIGKILL) == 0);
  REQUIRE(::waitpid(owner, nullptr, 0) == owner);  // this process is the subreaper: the pid is free

  PidTaker taker(owner);
  REQUIRE_MESSAGE(taker.pid() == owner, "clone3 could not take pid " << owner << ": " << taker.error());
  REQUIRE(wait_for_comm(owner, "sleep"));
  CHECK(cg.status_json("reused").at("task").at("owner").at("alive") == false);

  RunResult reap = cg.run({"reap", "--grace", "0s"});
  INFO(describe_run(reap));
  CHECK(reap.exit_code == 0);
  CHECK(cg.status_json("reused").is_null());
  CHECK(still_alive(processes).empty());
  CHECK_FALSE(exists(parent.task_path("reused")));
  CHECK(cgtest::process_state(owner) == "S");  // the process now at that pid: never signalled
}

TEST_CASE(
    "orphans: a cgspawn-* cgroup without a mark is listed and left alone by reap --orphans, one with another "
    "ledger's mark is neither listed nor touched; their processes live on") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  REQUIRE(cg.run(cg.start_args("kept", {"/bin/sleep", "100"})).exit_code == 0);  // the ledger uses the parent
  std::string unmarked = parent.path() + "/cgspawn-unmarked";
  std::string other = parent.path() + "/cgspawn-other-ledger";
  REQUIRE(::mkdir(unmarked.c_str(), 0755) == 0);
  REQUIRE(::mkdir(other.c_str(), 0755) == 0);
  std::string mark = "/var/lib/another-ledger";
  REQUIRE(::setxattr(other.c_str(), "user.cgspawn.ledger", mark.data(), mark.size(), 0) == 0);
  cgtest::Child in_unmarked({"/bin/sleep", "600"}), in_other({"/bin/sleep", "600"});
  REQUIRE(move_into(unmarked, in_unmarked.pid()));
  REQUIRE(move_into(other, in_other.pid()));
  auto processes = identify({in_unmarked.pid(), in_other.pid()});

  json l = cg.list_json();
  REQUIRE(l.at("orphans").size() == 1);
  CHECK(l.at("orphans")[0].at("id") == unmarked);
  CHECK(l.at("orphans")[0].at("ours") == false);

  RunResult orphans = cg.run({"reap", "--orphans", "--grace", "0s", "--json"});
  INFO(describe_run(orphans));
  CHECK(orphans.exit_code == 1);  // what it found it did not destroy, and says so
  json r = json::parse(orphans.out);
  REQUIRE(r.at("orphans").at("resources").size() == 1);
  const json& row = r.at("orphans").at("resources")[0];
  CHECK(row.at("id") == unmarked);
  CHECK(row.at("outcome") == "not-guaranteed");
  CHECK(row.at("detail").get<std::string>().find("left alone") != std::string::npos);
  CHECK(exists(unmarked));
  CHECK(exists(other));
  CHECK(still_alive(processes, std::chrono::milliseconds(0)).size() == 2);
  CHECK(cg.status_json("kept").at("task").at("state") == "running");
  CHECK(cg.run({"destroy", "kept", "--grace", "0s"}).exit_code == 0);
}

TEST_CASE(
    "orphans: a task cgroup whose record was lost is listed, reported by reap, destroyed by reap --orphans") {
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
  // A live supervisor sees its main process end during the grace and kills the cgroup too:
  // then either destroyer may be the one that killed a process. Gone they must be, either way.
  for (const auto& p : processes)
    if (supervisor_killed) CHECK(killed.count(p.pid) == 1);
  CHECK(still_alive(processes).empty());
  CHECK_FALSE(exists(parent.task_path("lost")));
  // "kept" (its owner alive) is untouched.
  CHECK(cg.status_json("kept").at("task").at("state") == "running");
  CHECK(exists(parent.task_path("kept")));

  if (!supervisor_killed) {
    // The live supervisor saw its task end and recorded the Result again: collect it.
    REQUIRE(eventually([&] {
      json s = cg.status_json("lost");
      return !s.is_null() && s.at("task").at("state") == "exited" &&
             s.at("task").at("owner").at("alive") == false;
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
  cgspawn::StartRequest request;  // in the format start_supervised writes
  request.spec.argv = {"/bin/sleep", "100"};
  request.spec.cwd = "/";
  request.spec.grace = std::chrono::milliseconds(200);
  request.spec.id = "nostart";
  request.backend.parent = parent.path();
  write_text(state.outside() + "/request.json", cgspawn::start_request_json(request, state.path()), 0600);
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
  // The supervisor closes its report pipe (fd 3) once it has written to it, here in vain.
  std::string report_fd = "/proc/" + std::to_string(pid) + "/fd/3";
  CHECK(eventually([&] {
    struct stat st {};
    return ::lstat(report_fd.c_str(), &st) != 0;
  }));
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
  std::vector<std::string> args = {"start",
                                   "--parent",
                                   parent.path(),
                                   "--id",
                                   "out",
                                   "--stdout",
                                   work.file("o"),
                                   "--stderr",
                                   work.file("e"),
                                   "--",
                                   "/bin/sh",
                                   "-c",
                                   "echo to-out; echo to-err >&2"};
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

TEST_CASE("list --label and reap --label: only the matching tasks are listed and reaped") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pids = work.file("pids");
  NothingLeft guard{cg, pids};
  std::vector<std::string> red_labels = {"--label", "colour=red", "--label", "size=big"};
  REQUIRE(cg.run(start_with(cg, "red", red_labels, workload(pids, "wait"))).exit_code == 0);
  REQUIRE(cg.run(start_with(cg, "blue", {"--label", "colour=blue"}, workload(pids, "wait"))).exit_code == 0);
  REQUIRE(wait_for_lines(pids, 4));

  json red = json::parse(cg.run({"list", "--json", "--label", "colour=red"}).out);
  CHECK(task_ids(red) == "red");
  CHECK(red.at("tasks")[0].at("labels") == json{{"colour", "red"}, {"size", "big"}});
  RunResult both = cg.run({"list", "--json", "--label", "colour=red", "--label", "size=small"});
  CHECK(task_ids(json::parse(both.out)) == "");  // every --label must match
  RunResult text = cg.run({"list", "--label", "colour=blue"});
  CHECK(text.exit_code == 0);
  CHECK(split_lines(text.out).size() == 1);
  CHECK(text.out.rfind("blue  ", 0) == 0);  // the line starts with the id

  kill_owner(cg, "red");
  kill_owner(cg, "blue");
  RunResult reap = cg.run({"reap", "--json", "--label", "colour=red", "--grace", "200ms"});
  INFO(describe_run(reap));
  CHECK(reap.exit_code == 0);
  CHECK(task_ids(json::parse(reap.out)) == "red");
  CHECK_FALSE(exists(parent.task_path("red")));
  CHECK(exists(parent.task_path("blue")));  // not matching: left alone, its processes too
  CHECK(processes_below(parent.relative() + "/cgspawn-blue").size() == 2);
  CHECK(task_ids(cg.list_json()) == "blue");

  RunResult rest = cg.run({"reap", "--json", "--grace", "200ms"});
  CHECK(rest.exit_code == 0);
  CHECK(task_ids(json::parse(rest.out)) == "blue");
}

TEST_CASE("start --timeout D: the supervisor enforces it, and wait exits 124") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pids = work.file("pids"), result = work.file("result.json");
  NothingLeft guard{cg, pids};
  REQUIRE(cg.run(start_with(cg, "slow", {"--timeout", "300ms"}, workload(pids, "wait"))).exit_code == 0);
  REQUIRE(wait_for_lines(pids, 2));
  auto processes = identify(read_pids(pids));

  RunResult w = cg.run({"wait", "slow", "--result", result});
  INFO(describe_run(w));
  CHECK(w.exit_code == 124);
  json r = json::parse(read_text(result).value_or("null"));
  CHECK(r.at("exit").at("reason") == "timed-out");
  CHECK(r.at("usage").at("wall_seconds").get<double>() >= 0.29);
  CHECK(r.at("cleanup").at("complete") == true);
  CHECK(still_alive(processes).empty());  // the background sleep too
  CHECK_FALSE(exists(parent.task_path("slow")));
  CHECK(cg.status_json("slow").at("task").at("state") == "exited");

  RunResult d = cg.run({"destroy", "slow"});
  CHECK(d.exit_code == 0);
}

TEST_CASE("start: 127 for a missing program, 126 for a non-executable one, 125 for a limit; nothing left") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  NothingLeft guard{cg, work.file("none")};
  write_text(work.file("plain"), "#!/bin/sh\nexit 0\n", 0644);
  struct Case {
    std::vector<std::string> options, argv;
    int status;
    std::string named;
  };
  std::vector<Case> cases = {{{}, {"/nonexistent/program"}, 127, "/nonexistent/program"},
                             {{}, {"cgspawn-no-such-program"}, 127, "cgspawn-no-such-program"},
                             {{}, {work.file("plain")}, 126, work.file("plain")}};
  if (read_text(parent.path() + "/cgroup.controllers").value_or("").find("memory") == std::string::npos)
    cases.push_back(
        {{"--memory-max", "64M"}, {"/bin/sh", "-c", "touch " + work.file("ran")}, 125, "memory controller"});
  else
    MESSAGE("the memory controller is enforceable here: the 125 case is not exercised");
  for (const auto& c : cases) {
    CAPTURE(c.named);
    RunResult r = cg.run(start_with(cg, "refused", c.options, c.argv));
    INFO(describe_run(r));
    CHECK(r.exit_code == c.status);
    CHECK(r.out.empty());  // no id
    REQUIRE(r.err_lines().size() == 1);
    CHECK(r.err.find(c.named) != std::string::npos);
    CHECK_FALSE(exists(state.file("refused")));  // no record, not even its directory
    CHECK_FALSE(exists(state.file("parents")));  // nor the parent it would have used
    CHECK(parent.children().empty());
    CHECK(cg.list_json().at("tasks").empty());
  }
  CHECK_FALSE(exists(work.file("ran")));
}

TEST_CASE("destroy exits 1 while a process survives, the record naming it; once thawed, destroy completes") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pids = work.file("pids");
  NothingLeft guard{cg, pids};
  V1Freezer freezer;  // after the guard: thawed before the guard's reap
  if (!freezer.available())
    return skip_case("no cgroup v1 freezer here (pure cgroup v2): no process can be made unkillable");
  REQUIRE(cg.run(cg.start_args("frozen", workload(pids, "wait"))).exit_code == 0);
  REQUIRE(wait_for_lines(pids, 2));
  auto processes = identify(read_pids(pids));
  REQUIRE(wait_for_comm(processes[1].pid, "sleep"));
  freezer.add(processes[1].pid);  // the background sleep
  freezer.freeze();

  // The supervisor waits out the verify timeout (10 s); destroy does not wait it a second time.
  RunResult d = cg.run({"destroy", "frozen", "--grace", "200ms", "--json"}, {}, std::chrono::seconds(90));
  INFO(describe_run(d));
  CHECK(d.exit_code == 1);
  json cleanup = json::parse(d.out).at("cleanup");
  CHECK(cleanup.at("complete") == false);
  CHECK(cleanup.at("resources")[0].at("outcome") == "failed");
  CHECK(cleanup.at("resources")[0].at("survivors")[0].at("pid") == processes[1].pid);
  json st = cg.status_json("frozen");  // the record stays, naming what is left
  REQUIRE_FALSE(st.is_null());
  CHECK(st.at("task").at("resources")[0].at("state") == "failed");
  CHECK(exists(parent.task_path("frozen")));

  freezer.thaw();
  CHECK(still_alive(processes).empty());  // it acts on its pending SIGKILL
  RunResult again = cg.run({"destroy", "frozen", "--grace", "200ms"});
  INFO(describe_run(again));
  CHECK(again.exit_code == 0);
  CHECK(cg.status_json("frozen").is_null());
  CHECK_FALSE(exists(parent.task_path("frozen")));
}

TEST_CASE("wait: an owner that dies before the task ends gives exit 125, pointing at reap") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pids = work.file("pids");
  NothingLeft guard{cg, pids};
  REQUIRE(cg.run(cg.start_args("ownerless", workload(pids, "wait"))).exit_code == 0);
  REQUIRE(wait_for_lines(pids, 2));
  auto processes = identify(read_pids(pids));

  auto waiting = cg.spawn({"wait", "ownerless"});  // already waiting when the owner dies
  // It waits on the owner's pidfd: once it holds one, it is in its wait.
  REQUIRE(eventually([&] { return holds_pidfd(waiting->pid()); }));
  kill_owner(cg, "ownerless");
  RunResult w = waiting->wait(std::chrono::seconds(10));
  INFO(describe_run(w));
  CHECK(w.exit_code == 125);
  CHECK(w.err_lines().size() == 1);
  CHECK(w.err.find("reap") != std::string::npos);

  RunResult later = cg.run({"wait", "ownerless", "--timeout", "5s"});  // and after it died
  CHECK(later.exit_code == 125);
  CHECK(later.err.find("reap") != std::string::npos);
  CHECK(still_alive(processes, std::chrono::milliseconds(0)).size() == 2);  // wait destroys nothing
  CHECK(cg.status_json("ownerless").at("task").at("state") == "running");
}
