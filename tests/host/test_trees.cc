// SPDX-License-Identifier: MIT
// Real process trees in real cgroups: whatever the task made, destroy ends every process and
// removes the task cgroup. Each workload writes its pids to a file; the test reads them while
// they live and checks /proc afterwards.
#include <doctest/doctest.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <set>

#include "cli.hpp"
#include "host.hpp"
#include "task.hpp"
#include "util/syscalls.hpp"

using namespace cgtest;
using namespace cgspawn;

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The row of the task cgroup, checked to be the only one and destroyed.
const ResourceOutcome& destroyed_row(const Result& r, const TestParent& parent, const std::string& id) {
  REQUIRE(r.cleanup.resources.size() == 1);
  const ResourceOutcome& row = r.cleanup.resources[0];
  CHECK(to_string(row.resource.kind) == "cgroup");
  CHECK(row.resource.id == parent.task_path(id));
  CHECK(to_string(row.outcome) == "destroyed");
  CHECK(row.survivors.empty());
  CHECK(r.cleanup.complete());
  return row;
}

// Every process is gone, and so is every cgroup below the test's parent.
void check_all_gone(const std::vector<ProcessId>& processes, const TestParent& parent,
                    const std::string& id) {
  CHECK(still_alive(processes).empty());
  std::vector<pid_t> pids;
  for (const auto& p : processes) pids.push_back(p.pid);
  CHECK(alive_below(pids, parent.relative()).empty());
  CHECK_FALSE(exists(parent.task_path(id)));
  CHECK(parent.children().empty());
}

// Restores the syscall table however the test ends.
struct SeamGuard {
  sys::Syscalls saved = sys::syscalls();
  ~SeamGuard() { sys::syscalls() = saved; }
};

int g_kill_calls = 0;
int no_cgroup_kill(int) {
  ++g_kill_calls;
  return ENOENT;  // as a kernel before 5.14
}

}  // namespace

TEST_CASE("a double-forked setsid daemon is destroyed when the main process exits") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  // The subshell forks the daemon and exits at once: the daemon is orphaned, in a session of
  // its own, with a background child; the main process waits until both pids are written.
  auto spec = shell("daemon",
                    R"sh(: > "$1"
( setsid /bin/sh -c 'echo $$ >> "$1"; sleep 1000 & echo $! >> "$1"; wait' sh "$1" & )
while [ "$(wc -l < "$1")" -lt 2 ]; do sleep 0.01; done)sh",
                    {file});
  spec.grace = std::chrono::seconds(3);
  auto task = spawner_under(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, 2));
  auto pids = read_pids(file);
  auto ids = identify(pids);
  pid_t daemon = pids[0];
  CHECK(session_of(daemon) == daemon);  // it left our session: a process-group kill would miss it
  CHECK(session_of(daemon) != session_of(::getpid()));
  CHECK(cgroup_of(daemon) == parent.relative() + "/cgspawn-daemon");  // ... but not its cgroup

  Result r = task->wait();
  CHECK(r.exit.reason == ExitReason::exited);
  CHECK(r.exit.code == 0);
  const auto& row = destroyed_row(r, parent, "daemon");
  CHECK(killed_has(row, pids[0]));
  CHECK(killed_has(row, pids[1]));
  CHECK(row.killed_total == 2);
  check_all_gone(ids, parent, "daemon");
}

TEST_CASE("a child that ignores SIGTERM is killed after the grace") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto spec = shell("ignore-term",
                    R"(/bin/sh -c 'trap "" TERM; echo $$ >> "$1"; while :; do sleep 1; done' sh "$1" &
wait)",
                    {file});
  spec.timeout = std::chrono::milliseconds(300);
  spec.grace = std::chrono::milliseconds(600);
  auto start = Clock::now();
  auto task = spawner_under(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, 1));
  auto ids = identify(read_pids(file));
  double cpu_before = thread_cpu_seconds();
  Result r = task->wait();  // this thread waits out the timeout and the grace, and destroys
  // Waited for (the pidfd, cgroup.events' change notices), never polled: a loop that looked
  // again and again through the 0.6 s of grace would spend most of it on the CPU.
  CHECK(thread_cpu_seconds() - cpu_before < 0.15);
  CHECK(r.exit.reason == ExitReason::timed_out);
  CHECK(r.exit.signal == SIGTERM);  // the main shell did not ignore it
  CHECK_FALSE(r.exit.code.has_value());
  const auto& row = destroyed_row(r, parent, "ignore-term");
  CHECK(killed_has(row, ids[0].pid));
  CHECK(row.seconds >= 0.5);           // the grace was waited out: a process ignored SIGTERM
  CHECK(seconds_since(start) >= 0.8);  // timeout + grace
  CHECK(seconds_since(start) < 15);
  check_all_gone(ids, parent, "ignore-term");
}

TEST_CASE("a stopped (SIGSTOP) child is destroyed, and SIGCONT lets it act on SIGTERM") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto spec = shell("stopped", R"(sleep 1000 & echo $! >> "$1"; kill -STOP $!; wait)", {file});
  auto task = spawner_under(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, 1));
  auto ids = identify(read_pids(file));
  REQUIRE(eventually([&] { return process_state(ids[0].pid) == "T"; }));
  auto start = Clock::now();
  Result r = task->finish(destroy_options(std::chrono::seconds(20)));
  CHECK(seconds_since(start) < 10);  // far less than the 20 s grace: nobody had to be SIGKILLed
  CHECK(r.exit.reason == ExitReason::destroyed);
  const auto& row = destroyed_row(r, parent, "stopped");
  CHECK(killed_has(row, ids[0].pid));
  check_all_gone(ids, parent, "stopped");
}

TEST_CASE("a stopped child that never gets to run is killed without grace") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto spec = shell("stopped-kill", R"(sleep 1000 & echo $! >> "$1"; kill -STOP $!; wait)", {file});
  auto task = spawner_under(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, 1));
  auto ids = identify(read_pids(file));
  REQUIRE(eventually([&] { return process_state(ids[0].pid) == "T"; }));
  Result r = task->finish(destroy_options(std::chrono::milliseconds(0)));
  const auto& row = destroyed_row(r, parent, "stopped-kill");
  CHECK(killed_has(row, ids[0].pid));
  check_all_gone(ids, parent, "stopped-kill");
}

TEST_CASE("a loop that keeps forking while it is being killed") {
  SeamGuard seam;
  bool fallback = false;
  SUBCASE("cgroup.kill") {}
  SUBCASE("freeze + SIGKILL (no cgroup.kill)") {
    fallback = true;
    g_kill_calls = 0;
    sys::syscalls().write_cgroup_kill = no_cgroup_kill;
  }
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  // It ignores SIGTERM, so it goes on forking through the whole grace period, and its
  // children inherit that.
  auto spec = shell("fork-loop", R"(trap "" TERM
while :; do sleep 1000 & echo $! >> "$1"; /bin/true; done)",
                    {file});
  auto task = spawner_under(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, 20));
  auto ids = identify(read_pids(file));
  Result r = task->finish(destroy_options(std::chrono::milliseconds(300)));
  const auto& row = destroyed_row(r, parent, "fork-loop");
  CHECK(row.killed_total >= 20);
  if (row.killed.size() == row.killed_total)  // not capped: it names every one
    for (const auto& p : ids) CHECK(killed_has(row, p.pid));
  if (fallback) CHECK(g_kill_calls >= 1);
  // Everything it forked, also after the test read the file, is gone.
  CHECK(alive_below(read_pids(file), parent.relative()).empty());
  check_all_gone(ids, parent, "fork-loop");
}

TEST_CASE("a multi-threaded process: every thread ends") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("tids");
  const int threads = 16;
  TaskSpec spec;
  spec.id = "threads";
  spec.argv = {helper_bin(), "threads", std::to_string(threads), file};
  auto task = spawner_under(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, threads + 1));
  auto tids = read_pids(file);
  pid_t pid = tids[0];
  auto ids = identify(tids);
  size_t in_cgroup_threads = read_pids(parent.task_path("threads") + "/cgroup.threads").size();
  CHECK(in_cgroup_threads == static_cast<size_t>(threads + 1));
  Result r = task->finish(destroy_options(std::chrono::seconds(2)));
  CHECK(r.exit.reason == ExitReason::destroyed);
  CHECK(r.exit.signal == SIGTERM);
  const auto& row = destroyed_row(r, parent, "threads");
  CHECK(row.killed_total == 1);  // one process, however many threads
  CHECK(killed_has(row, pid));
  check_all_gone(ids, parent, "threads");
}

TEST_CASE("a tree of 1000 processes") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  const size_t n = 1000;
  TaskSpec spec;
  spec.id = "tree";
  spec.argv = {helper_bin(), "tree", std::to_string(n), file};
  auto task = spawner_under(parent)->spawn(spec);
  REQUIRE(wait_for_lines(file, n, std::chrono::seconds(60)));
  auto pids = read_pids(file);
  REQUIRE(pids.size() == n);
  auto ids = identify(pids);
  CHECK(read_pids(parent.task_path("tree") + "/cgroup.procs").size() == n);
  auto start = Clock::now();
  Result r = task->finish(destroy_options(std::chrono::milliseconds(0)));
  CHECK(seconds_since(start) < 20);
  CHECK(r.exit.reason == ExitReason::destroyed);
  CHECK(r.exit.signal == SIGKILL);
  const auto& row = destroyed_row(r, parent, "tree");
  CHECK(row.killed_total == n);
  CHECK(row.killed.size() < n);  // the list is capped; the count is not
  CHECK_FALSE(row.killed.empty());
  std::set<pid_t> tree(pids.begin(), pids.end());
  for (const auto& p : row.killed) CHECK(tree.count(p.pid) == 1);
  check_all_gone(ids, parent, "tree");
}
