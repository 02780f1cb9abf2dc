// SPDX-License-Identifier: MIT
// The kernel seam (util/syscalls.hpp): clone3 refused as by an old kernel, no cgroup.kill,
// and cgroup.kill failing. The fallbacks must keep the guarantees: the task is in its cgroup
// before exec, and destroy still ends every process.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "cli.hpp"
#include "host.hpp"
#include "ledger_faults.hpp"
#include "task.hpp"
#include "util/syscalls.hpp"

using namespace cgtest;
using namespace cgspawn;

namespace {

struct SeamGuard {
  sys::Syscalls saved = sys::syscalls();
  ~SeamGuard() { sys::syscalls() = saved; }
};

int g_calls = 0;
int g_errno = 0;

long refused_clone3(clone_args*, std::size_t, void (*)(void*), void*) {
  ++g_calls;
  errno = g_errno;
  return -1;
}

int failing_cgroup_kill(int) {
  ++g_calls;
  return g_errno;
}

}  // namespace

TEST_CASE("clone3 refused: fork + join the cgroup before exec") {
  SeamGuard seam;
  g_calls = 0;
  SUBCASE("E2BIG") {
    g_errno = E2BIG;
  }
  SUBCASE("ENOSYS") {
    g_errno = ENOSYS;
  }
  SUBCASE("EOPNOTSUPP") {
    g_errno = EOPNOTSUPP;
  }
  sys::syscalls().clone3 = refused_clone3;
  TestParent parent;
  TempDir tmp;
  std::string out = tmp.file("cgroup");
  TaskSpec spec;
  spec.id = "fallback";
  spec.argv = {"/bin/cat", "/proc/self/cgroup"};  // the main process itself, right after exec
  spec.stdout_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(spec.stdout_fd >= 0);
  Result r = spawner_under(parent)->spawn(spec)->wait();
  ::close(spec.stdout_fd);
  CHECK(g_calls == 1);
  CHECK(r.exit.code == 0);
  std::string cgroups = read_text(out).value_or("");
  CAPTURE(cgroups);
  CHECK(cgroups.find("0::" + parent.relative() + "/cgspawn-fallback\n") != std::string::npos);
  CHECK(r.cleanup.complete());
  CHECK(parent.children().empty());
}

TEST_CASE("clone3 refused: the fallback still destroys a whole tree") {
  SeamGuard seam;
  g_calls = 0;
  g_errno = E2BIG;
  sys::syscalls().clone3 = refused_clone3;
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto task = spawner_under(parent)->spawn(
      shell("fallback-tree", R"(for i in 1 2 3; do sleep 1000 & echo $! >> "$1"; done; wait)", {file}));
  REQUIRE(wait_for_lines(file, 3));
  auto ids = identify(read_pids(file));
  for (const auto& p : ids) CHECK(cgroup_of(p.pid) == parent.relative() + "/cgspawn-fallback-tree");
  Result r = task->finish(destroy_options(std::chrono::seconds(2)));
  CHECK(r.cleanup.complete());
  CHECK(still_alive(ids).empty());
  CHECK(parent.children().empty());
}

TEST_CASE("clone3 failing for another reason is an error, not a fallback, and leaves nothing") {
  SeamGuard seam;
  g_calls = 0;
  g_errno = EPERM;
  sys::syscalls().clone3 = refused_clone3;
  TestParent parent;
  TempDir tmp;
  std::string marker = tmp.file("ran");
  try {
    spawner_under(parent)->spawn(shell("eperm", "touch " + marker));
    FAIL("spawn did not fail");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::system);
    CHECK(std::string(e.what()).find("clone3") != std::string::npos);
  }
  CHECK(g_calls == 1);
  CHECK_FALSE(exists(marker));
  CHECK(parent.children().empty());
}

TEST_CASE("no cgroup.kill (ENOENT): freeze + SIGKILL + thaw kills everything") {
  SeamGuard seam;
  g_calls = 0;
  g_errno = ENOENT;
  sys::syscalls().write_cgroup_kill = failing_cgroup_kill;
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  // SIGTERM is ignored everywhere, so only the SIGKILL pass can end them; and a setsid
  // daemon is in the mix.
  auto task = spawner_under(parent)->spawn(shell("no-kill-file", R"(trap "" TERM
setsid /bin/sh -c 'echo $$ >> "$1"; exec sleep 1000' sh "$1" &
for i in 1 2 3 4 5; do sleep 1000 & echo $! >> "$1"; done
echo $$ >> "$1"; wait)",
                                                 {file}));
  REQUIRE(wait_for_lines(file, 7));
  auto ids = identify(read_pids(file));
  Result r = task->finish(destroy_options(std::chrono::milliseconds(200)));
  CHECK(g_calls >= 1);
  REQUIRE(r.cleanup.resources.size() == 1);
  const auto& row = r.cleanup.resources[0];
  CHECK(row.outcome == Outcome::destroyed);
  CHECK(row.killed_total == 7);
  for (const auto& p : ids) CHECK(killed_has(row, p.pid));
  CHECK(r.exit.signal == SIGKILL);
  CHECK(still_alive(ids).empty());
  CHECK(parent.children().empty());
}

TEST_CASE("cgroup.kill failing (EACCES): the row is failed, names the error and the survivors") {
  SeamGuard seam;
  g_calls = 0;
  g_errno = EACCES;
  sys::syscalls().write_cgroup_kill = failing_cgroup_kill;
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto task = spawner_under(parent)->spawn(
      shell("kill-fails", R"(trap "" TERM; sleep 1000 & echo $! >> "$1"; echo $$ >> "$1"; wait)", {file}));
  REQUIRE(wait_for_lines(file, 2));
  auto pids = read_pids(file);
  auto start = Clock::now();
  Result r = task->finish(destroy_options(std::chrono::milliseconds(0), std::chrono::milliseconds(500)));
  CHECK(seconds_since(start) < 10);
  REQUIRE(r.cleanup.resources.size() == 1);
  const auto& row = r.cleanup.resources[0];
  CAPTURE(row.detail);
  CHECK(row.outcome == Outcome::failed);
  CHECK_FALSE(r.cleanup.complete());
  CHECK(row.detail.find("cgroup.kill") != std::string::npos);
  CHECK(row.detail.find("Permission denied") != std::string::npos);
  CHECK(survivors_have(row, pids[0]));
  CHECK(survivors_have(row, pids[1]));
  for (const auto& s : row.survivors) CHECK_FALSE(s.state.empty());
  CHECK(exists(parent.task_path("kill-fails")));  // not removed: it is not empty
  // The TestParent guard kills and removes it.
}

TEST_CASE("a ledger update that fails after launch: spawn throws, and no process, cgroup or record remains") {
  TestParent parent;
  TempDir state_parent;
  std::string state = state_parent.file("ledger");
  auto ledger = std::make_shared<const Ledger>(state);
  ProcessSpawnerOptions options;
  options.parent = parent.path();
  options.ledger = ledger;
  auto spawner = make_process_spawner(options);
  // The process backend's one update comes after launch: the task runs when it fails.
  TaskSpec spec = shell("ledgerfault", "exec sleep 4242.25");
  {
    FailingRecordUpdates faults(1);
    try {
      spawner->spawn(spec);
      FAIL("spawn did not throw");
    } catch (const Error& e) {
      CAPTURE(e.what());
      CHECK(std::string(e.what()).find("record.json") != std::string::npos);
    }
    CHECK(faults.failed() == 1);
  }
  CHECK(processes_running("sleep 4242.25").empty());
  CHECK(parent.children().empty());
  Ledger::Listing listing = ledger->list();
  CHECK(listing.tasks.empty());
  CHECK(listing.abandoned.empty());
  CHECK_FALSE(exists(state + "/ledgerfault"));
}
