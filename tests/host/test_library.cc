// SPDX-License-Identifier: MIT
// The library surface on real tasks: exit code, death by signal, timeout, destroy on request,
// usage, the pollable fd, labels/env/cwd/stdio, exec failures, limits this host cannot enforce.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "cgspawn/parse.hpp"
#include "cli.hpp"
#include "host.hpp"
#include "launch/held_child.hpp"
#include "task.hpp"

using namespace cgtest;
using namespace cgspawn;

namespace {

const ResourceOutcome& only_row(const Result& r) {
  REQUIRE(r.cleanup.resources.size() == 1);
  return r.cleanup.resources[0];
}

void check_clean(const Result& r, const TestParent& parent, const std::string& id) {
  const ResourceOutcome& row = only_row(r);
  CHECK(to_string(row.resource.kind) == "cgroup");
  CHECK(row.resource.id == parent.task_path(id));
  CHECK(row.outcome == Outcome::destroyed);
  CHECK(row.survivors.empty());
  CHECK(row.seconds >= 0);
  CHECK(r.cleanup.complete());
  CHECK_FALSE(exists(parent.task_path(id)));
  CHECK(parent.children().empty());
}

// Spawning `spec` fails with `kind`, and leaves no cgroup (and did not run the program).
void check_refused(const TestParent& parent, const TaskSpec& spec, ErrorKind kind, const std::string& words) {
  try {
    spawner_under(parent)->spawn(spec);
    FAIL("spawn did not fail");
  } catch (const Error& e) {
    CHECK(e.kind() == kind);
    CAPTURE(e.what());
    CHECK(std::string(e.what()).find(words) != std::string::npos);
  }
  CHECK(parent.children().empty());
}

int open_write(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  return fd;
}

void runners_sigchld(int) {}  // what it does is not the point: that it is still the one installed

}  // namespace

TEST_CASE("exit code, id, backend, argv and labels reach the Result") {
  TestParent parent;
  auto spec = shell("exit7", "exit 7");
  spec.labels = {{"suite", "host"}, {"case", "exit"}};
  auto task = spawner_under(parent)->spawn(spec);
  CHECK(task->id() == "exit7");
  CHECK(task->backend() == "process");
  Result r = task->wait();
  CHECK(r.exit.reason == ExitReason::exited);
  CHECK(r.exit.code == 7);
  CHECK_FALSE(r.exit.signal.has_value());
  CHECK(r.id == "exit7");
  CHECK(r.backend == "process");
  CHECK(r.argv == spec.argv);
  CHECK(r.labels == spec.labels);
  CHECK(r.usage.wall_seconds > 0);
  CHECK(r.usage.wall_seconds < 30);
  CHECK(only_row(r).killed.empty());
  CHECK(only_row(r).killed_total == 0);
  check_clean(r, parent, "exit7");
}

TEST_CASE("a good guest: the runner's children, SIGCHLD handler, cgroup and fds are left alone") {
  TestParent parent;
  TempDir tmp;
  pid_t stranger = ::fork();  // the runner's own child, dead and not reaped yet
  REQUIRE(stranger >= 0);
  if (stranger == 0) ::_exit(0);
  REQUIRE(eventually([&] { return process_state(stranger) == "Z"; }));  // a waitpid(-1) would reap it now
  struct sigaction mine = {}, before = {}, after = {};
  mine.sa_handler = runners_sigchld;
  mine.sa_flags = SA_RESTART;
  REQUIRE(::sigaction(SIGCHLD, &mine, &before) == 0);
  std::optional<std::string> cgroup = read_text("/proc/self/cgroup");

  auto spec = shell("guest", "ls /proc/self/fd");
  spec.stdout_fd = open_write(tmp.file("fds"));
  Result r = spawner_under(parent)->spawn(spec)->wait();
  ::close(spec.stdout_fd);
  ::sigaction(SIGCHLD, &before, &after);

  CHECK(r.exit.code == 0);
  CHECK(::waitpid(stranger, nullptr, WNOHANG) == stranger);
  CHECK((after.sa_handler == runners_sigchld));  // (()): doctest cannot print a function pointer
  CHECK(read_text("/proc/self/cgroup") == cgroup);
  std::string fds = read_text(tmp.file("fds")).value_or("");
  CAPTURE(fds);
  // 0-2 and the directory ls reads; an fd the library leaked into the task would be one more.
  CHECK(split_lines(fds) == std::vector<std::string>{"0", "1", "2", "3"});
  check_clean(r, parent, "guest");
}

// A child held before exec (the systemd backend's, until its scope is verified) may wait
// long; another thread's close-on-exec descriptor kept open in it would keep that thread's
// flock (the ledger's index lock) held, and its next record write would wait for a child that
// waits for it. Descriptors without close-on-exec are the task's to inherit and stay.
TEST_CASE("a held child keeps none of the caller's close-on-exec fds while it waits") {
  TempDir tmp;
  int locked = ::open(tmp.file("lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(locked >= 0);
  REQUIRE(::flock(locked, LOCK_EX) == 0);
  int inherited = ::open(tmp.file("inherited").c_str(), O_RDWR | O_CREAT, 0644);  // no O_CLOEXEC
  REQUIRE(inherited >= 0);
  LaunchRequest request;
  request.program = "/bin/true";
  request.argv = {"true"};
  HeldChild child(request);
  std::string fd_dir = "/proc/" + std::to_string(child.pid()) + "/fd/";
  REQUIRE(eventually([&] { return !exists(fd_dir + std::to_string(locked)); }));
  CHECK(exists(fd_dir + std::to_string(inherited)));
  ::close(locked);  // the caller lets go: nobody else may hold the lock now
  int again = ::open(tmp.file("lock").c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(again >= 0);
  CHECK(::flock(again, LOCK_EX | LOCK_NB) == 0);
  ::close(again);
  ::close(inherited);
  Launched task = child.release();
  siginfo_t info{};
  REQUIRE(::waitid(P_PIDFD, static_cast<id_t>(task.pidfd.get()), &info, WEXITED) == 0);
  CHECK(info.si_status == 0);
}

TEST_CASE("death by a signal nobody from cgspawn sent") {
  TestParent parent;
  auto task = spawner_under(parent)->spawn(shell("sig", "kill -USR1 $$"));
  Result r = task->wait();
  CHECK(r.exit.reason == ExitReason::signaled);
  CHECK(r.exit.signal == SIGUSR1);
  CHECK_FALSE(r.exit.code.has_value());
  check_clean(r, parent, "sig");
}

TEST_CASE("timeout: SIGTERM to all, the Result says timed-out") {
  TestParent parent;
  TaskSpec spec;
  spec.id = "timeout";
  spec.argv = {"sleep", "1000"};  // looked up in PATH
  spec.timeout = std::chrono::milliseconds(300);
  spec.grace = std::chrono::seconds(30);
  auto start = Clock::now();
  auto task = spawner_under(parent)->spawn(spec);
  Result r = task->wait();
  double took = seconds_since(start);
  CHECK(r.exit.reason == ExitReason::timed_out);
  CHECK(r.exit.signal == SIGTERM);
  CHECK_FALSE(r.exit.code.has_value());
  CHECK(r.usage.wall_seconds >= 0.29);
  CHECK(took >= 0.29);
  CHECK(took < 10);  // sleep acts on SIGTERM: the 30 s grace is not waited out
  const auto& row = only_row(r);
  REQUIRE(row.killed.size() == 1);
  CHECK(row.killed[0].comm == "sleep");
  check_clean(r, parent, "timeout");
}

TEST_CASE("finish() while the task runs: destroyed, or timed-out when the caller says so") {
  TestParent parent;
  ExitReason reason = ExitReason::destroyed;
  SUBCASE("destroyed") {}
  SUBCASE("timed out, as a caller-driven timeout") {
    reason = ExitReason::timed_out;
  }
  TaskSpec spec;
  spec.id = "finish";
  spec.argv = {"/bin/sleep", "1000"};
  auto task = spawner_under(parent)->spawn(spec);
  CHECK_FALSE(task->try_wait().has_value());
  Result r = task->finish(destroy_options(std::chrono::seconds(5)), reason);
  CHECK(r.exit.reason == reason);
  CHECK(r.exit.signal == SIGTERM);
  const auto& row = only_row(r);
  REQUIRE(row.killed.size() == 1);
  CHECK(row.killed[0].comm == "sleep");
  CHECK(row.killed_total == 1);
  check_clean(r, parent, "finish");
  // Destroy never throws: a second finish() does nothing and returns the first Result.
  Result again = task->finish(destroy_options(std::chrono::seconds(0)), ExitReason::destroyed);
  CHECK(again.exit.reason == reason);
  CHECK(again.exit.signal == SIGTERM);
  CHECK(only_row(again).killed_total == 1);
  CHECK(again.usage.wall_seconds == r.usage.wall_seconds);
}

TEST_CASE("a busy task has CPU time; memory figures only where the memory controller is on") {
  TestParent parent;
  TaskSpec spec;
  spec.id = "busy";
  spec.argv = {helper_bin(), "spin", "0.3"};  // 0.3 s of CPU time, however long that takes here
  Result r = spawner_under(parent)->spawn(spec)->wait();
  CHECK(r.exit.code == 0);
  double cpu = r.usage.cpu_user_seconds + r.usage.cpu_system_seconds;
  CHECK(cpu >= 0.27);  // the cgroup counts what the process itself counted (a 10% margin)
  CHECK(cpu < r.usage.wall_seconds * 2 + 1);
  CHECK(r.usage.wall_seconds >= 0.29);
  // The test's parent enables no controller for its children: no memory.peak to read.
  CHECK_FALSE(r.usage.memory_peak_bytes.has_value());
  CHECK_FALSE(r.usage.oom_kills.has_value());
  check_clean(r, parent, "busy");
}

TEST_CASE("poll_fd becomes readable when the main process exits; try_wait never blocks") {
  TestParent parent;
  auto task = spawner_under(parent)->spawn(shell("poll", "sleep 0.2; exit 3"));
  CHECK_FALSE(task->try_wait().has_value());
  pollfd p{task->poll_fd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 10000) == 1);
  auto status = task->try_wait();
  REQUIRE(status.has_value());
  CHECK(status->code == 3);
  CHECK(status->reason == ExitReason::exited);
  Result r = task->wait();
  CHECK(r.exit.code == 3);
  check_clean(r, parent, "poll");
}

TEST_CASE("a Task dropped without finish() is destroyed") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  {
    auto task =
        spawner_under(parent)->spawn(shell("dropped", R"(sleep 1000 & echo $! > "$1"; wait)", {file}));
    REQUIRE(wait_for_lines(file, 1));
  }
  auto ids = identify(read_pids(file));
  CHECK(still_alive(ids).empty());
  CHECK_FALSE(exists(parent.task_path("dropped")));
  CHECK(parent.children().empty());
}

TEST_CASE("env, inherit_env, cwd and stdio are the task's") {
  TestParent parent;
  TempDir tmp;
  std::string out = tmp.file("out");
  auto spec = shell("env", R"(echo "$FOO|$(pwd)|${HOME-unset}"; echo err >&2)");
  spec.env = {"FOO=bar baz"};
  spec.inherit_env = false;
  spec.cwd = tmp.path();
  spec.stdout_fd = open_write(out);
  spec.stderr_fd = spec.stdout_fd;
  Result r = spawner_under(parent)->spawn(spec)->wait();
  ::close(spec.stdout_fd);
  CHECK(r.exit.code == 0);
  CHECK(read_text(out) == "bar baz|" + tmp.path() + "|unset\nerr\n");
  check_clean(r, parent, "env");
}

TEST_CASE("a task id is made up when none is given, and the task cgroup is named after it") {
  TestParent parent;
  TaskSpec spec;
  spec.argv = {"/bin/true"};
  auto task = spawner_under(parent)->spawn(spec);
  std::string id = task->id();
  CHECK(valid_task_id(id));
  Result r = task->wait();
  CHECK(r.id == id);
  CHECK(only_row(r).resource.id == parent.task_path(id));
  check_clean(r, parent, id);
}

TEST_CASE("exec failures and a bad cwd leave no cgroup and start nothing") {
  TestParent parent;
  TempDir tmp;
  std::string marker = tmp.file("ran");
  auto run = [&](std::vector<std::string> argv) {
    TaskSpec spec;
    spec.id = "fail";
    spec.argv = std::move(argv);
    return spec;
  };
  SUBCASE("not found, by path") {
    check_refused(parent, run({"/nonexistent/prog"}), ErrorKind::not_found, "/nonexistent/prog");
  }
  SUBCASE("not found, in PATH") {
    check_refused(parent, run({"cgspawn-no-such-program"}), ErrorKind::not_found, "cgspawn-no-such-program");
  }
  SUBCASE("not executable") {
    write_text(tmp.file("plain"), "#!/bin/sh\ntouch " + marker + "\n", 0644);
    check_refused(parent, run({tmp.file("plain")}), ErrorKind::not_executable, "plain");
  }
  SUBCASE("a directory") {
    check_refused(parent, run({tmp.path()}), ErrorKind::not_executable, tmp.path());
  }
  SUBCASE("execve fails in the child: ENOEXEC, reported through the exec pipe") {
    write_text(tmp.file("garbage"),
               std::string("\x7f"
                           "ELFnot really\n"),
               0755);
    check_refused(parent, run({tmp.file("garbage")}), ErrorKind::not_executable, "garbage");
  }
  SUBCASE("execve fails in the child: a missing interpreter is ENOENT") {
    write_text(tmp.file("script"), "#!/nonexistent/interpreter\n", 0755);
    check_refused(parent, run({tmp.file("script")}), ErrorKind::not_found, "script");
  }
  SUBCASE("chdir fails in the child") {
    auto spec = shell("fail", "touch " + marker);
    spec.cwd = tmp.file("no-such-dir");
    check_refused(parent, spec, ErrorKind::invalid_argument, "no-such-dir");
  }
  SUBCASE("malformed spec") {
    check_refused(parent, run({}), ErrorKind::invalid_argument, "no program");
    auto bad_id = shell("../x", "touch " + marker);
    check_refused(parent, bad_id, ErrorKind::invalid_argument, "../x");
    auto bad_env = shell("fail", "touch " + marker);
    bad_env.env = {"NOEQUALS"};
    check_refused(parent, bad_env, ErrorKind::invalid_argument, "NOEQUALS");
  }
  CHECK_FALSE(exists(marker));
}

TEST_CASE("a task id already in use is refused, and the running task is untouched") {
  TestParent parent;
  auto spawner = spawner_under(parent);
  auto first = spawner->spawn(shell("same", "sleep 1000"));
  CHECK_THROWS_AS(spawner->spawn(shell("same", "true")), Error);
  CHECK(exists(parent.task_path("same")));
  CHECK_FALSE(first->try_wait().has_value());
  Result r = first->finish(destroy_options(std::chrono::seconds(2)));
  check_clean(r, parent, "same");
}

TEST_CASE("a bad parent cgroup is refused") {
  ProcessSpawnerOptions options;
  options.parent = "/tmp/not-a-cgroup";
  CHECK_THROWS_AS(make_process_spawner(options), Error);
  options.parent = cgroup2_mount() + "/../x";
  CHECK_THROWS_AS(make_process_spawner(options), Error);
  options.parent = cgroup2_mount();  // the root itself: tasks would be siblings of everything
  CHECK_THROWS_AS(make_process_spawner(options), Error);
}

TEST_CASE("a parent cgroup that does not exist is made, and removed again after the task") {
  TestParent parent;
  ProcessSpawnerOptions options;
  options.parent = parent.path() + "/a/b";
  auto spawner = make_process_spawner(options);
  Result r = spawner->spawn(shell("nested", "exit 0"))->wait();
  CHECK(r.exit.code == 0);
  CHECK(r.cleanup.complete());
  CHECK(parent.children().empty());
}

TEST_CASE("capabilities on this host") {
  TestParent parent;
  Capabilities c = spawner_under(parent)->capabilities();
  CHECK(c.backend == "process");
  CHECK(c.usable.available);
  CHECK(c.kill_all.available);
  CHECK(c.verify.available);
  CHECK_FALSE(c.usable.reason.empty());
  CHECK_FALSE(c.survives_caller_crash.reason.empty());
  for (auto [name, cap] : {std::pair{"memory", c.memory_max}, {"pids", c.pids_max}, {"cpu", c.cpu_max}}) {
    CAPTURE(name);
    CAPTURE(cap.reason);
    CHECK_FALSE(cap.reason.empty());
    bool in_v1 = !v1_mount(name).empty();
    if (in_v1 && !cap.available) CHECK(cap.reason.find("cgroup v1") != std::string::npos);
  }
}

namespace {

// The limit reached the task cgroup's file, read by the task itself.
void check_limit_taken(const TestParent& parent, const std::string& controller, const Limits& limits) {
  const char* file = controller == "memory" ? "memory.max" : controller == "pids" ? "pids.max" : "cpu.max";
  std::string expected = controller == "memory" ? "67108864\n"
                         : controller == "pids" ? "100\n"
                                                : "50000 100000\n";
  TempDir out;
  int fd = ::open(out.file("limit").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  ProcessSpawnerOptions options;
  options.parent = parent.path() + "/enforced";
  auto spec = shell("limit-" + controller,
                    "cat " + cgroup2_mount() + "$(sed -n 's/^0:://p' /proc/self/cgroup)/" + file);
  spec.limits = limits;
  spec.stdout_fd = fd;
  Result r = make_process_spawner(options)->spawn(spec)->wait();
  ::close(fd);
  CHECK(r.exit.code == 0);
  CHECK(read_text(out.file("limit")).value_or("") == expected);
}

}  // namespace

TEST_CASE("a limit this host cannot enforce is refused before anything starts; one it can is enforced" *
          doctest::test_suite("differs-on-systemd")) {
  TestParent parent;
  TempDir tmp;
  std::string marker = tmp.file("ran");
  std::string controllers = read_text(parent.path() + "/cgroup.controllers").value_or("");
  struct Case {
    std::string controller;
    Limits limits;
  };
  std::vector<Case> cases(3);
  cases[0].controller = "memory";
  cases[0].limits.memory_max_bytes = 64 << 20;
  cases[1].controller = "pids";
  cases[1].limits.pids_max = 100;
  cases[2].controller = "cpu";
  cases[2].limits.cpu_max_percent = 50;
  int refused = 0;
  for (const auto& c : cases) {
    CAPTURE(c.controller);
    bool delegated = (" " + controllers + " ").find(" " + c.controller) != std::string::npos;
    if (delegated) {  // a pure-v2 host that hands this controller down: the limit must take
      parent.hand_down(c.controller);
      check_limit_taken(parent, c.controller, c.limits);
      continue;
    }
    ProcessSpawnerOptions options;
    options.parent = parent.path() + "/not-made";  // not even the parent may be created
    auto spec = shell("limited", "touch " + marker);
    spec.limits = c.limits;
    try {
      make_process_spawner(options)->spawn(spec);
      FAIL("the limit was not refused");
    } catch (const Error& e) {
      ++refused;
      std::string what = e.what();
      CAPTURE(what);
      CHECK(e.kind() == ErrorKind::unsupported);
      CHECK(what.find(c.controller) != std::string::npos);
      if (!v1_mount(c.controller).empty()) CHECK(what.find("cgroup v1") != std::string::npos);
    }
    CHECK_FALSE(exists(options.parent));
    CHECK(parent.children().empty());
  }
  CHECK_FALSE(exists(marker));
  if (cgroup2_mount() == "/sys/fs/cgroup/unified") CHECK(refused == 3);  // a hybrid host: v1 has them all
}
