// SPDX-License-Identifier: MIT
// The systemd backend on the system bus, as root, in the guests (Debian 12's systemd 252: the
// PIDs path; Debian 13's systemd 257: the PIDFDs path):
// the escape scenarios, UnitExists recovery, daemon-reload, limits read back, OOM in the
// Result, a bad property refused with systemd's own words, reap after the caller's SIGKILL.
#include <doctest/doctest.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "host.hpp"
#include "ledger_faults.hpp"
#include "systemd_support.hpp"
#include "task.hpp"

using namespace cgsd;
using namespace cgspawn;
using cgtest::Child;
using cgtest::RunResult;
using cgtest::TempDir;

namespace {

const ResourceOutcome& scope_row(const Result& r, const std::string& id) {
  REQUIRE(r.cleanup.resources.size() == 1);
  const ResourceOutcome& row = r.cleanup.resources[0];
  CHECK(to_string(row.resource.kind) == "scope");
  CHECK(row.resource.id == "cgspawn-" + id + ".scope");
  CAPTURE(row.detail);
  CHECK(to_string(row.outcome) == "destroyed");
  CHECK(row.survivors.empty());
  CHECK(r.cleanup.complete());
  return row;
}

void check_gone(const std::vector<cgtest::ProcessId>& processes, const std::string& id,
                const std::string& cgroup) {
  CHECK(cgtest::still_alive(processes, scaled(10s)).empty());
  CHECK(unit_gone("cgspawn-" + id + ".scope"));
  CHECK_FALSE(cgtest::exists(cgroup));
}

std::string relative(const std::string& cgroup) {
  return cgroup.substr(std::string("/sys/fs/cgroup").size());
}

// Bytes waiting to be read on the sockets of process `pid` (its D-Bus connection among them):
// each socket taken with pidfd_getfd, its queue asked with FIONREAD. -1 when it cannot be read.
long long unread_socket_bytes(pid_t pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return -1;
  long long total = 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (ec || target.rfind("socket:", 0) != 0) continue;
    int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, std::stoi(e.path().filename().string()), 0));
    int queued = 0;
    if (fd >= 0 && ::ioctl(fd, FIONREAD, &queued) == 0) total += queued;
    if (fd >= 0) ::close(fd);
  }
  ::close(pidfd);
  return total;
}

}  // namespace

TEST_CASE("systemd scope: a double-forked setsid daemon is destroyed; unit gone, cgroup removed") {
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto spec = shell_task("sd-daemon", R"sh(: > "$1"
( setsid /bin/sh -c 'echo $$ >> "$1"; sleep 1000 & echo $! >> "$1"; wait' sh "$1" & )
while [ "$(wc -l < "$1")" -lt 2 ]; do sleep 0.05; done)sh",
                         {file});
  spec.grace = std::chrono::seconds(3);
  auto task = system_spawner()->spawn(spec);
  std::string cgroup = unit_cgroup("cgspawn-sd-daemon.scope");
  CHECK(unit_property("cgspawn-sd-daemon.scope", "ActiveState") == "active");
  CHECK(unit_property("cgspawn-sd-daemon.scope", "CollectMode") == "inactive-or-failed");
  REQUIRE(cgtest::wait_for_lines(file, 2, scaled(60s)));
  auto pids = cgtest::read_pids(file);
  auto ids = cgtest::identify(pids);
  CHECK(cgtest::session_of(pids[0]) == pids[0]);
  CHECK(cgtest::cgroup_of(pids[0]) == relative(cgroup));
  Result r = task->wait();
  CHECK(r.backend == "systemd");
  CHECK(r.exit.reason == ExitReason::exited);
  CHECK(r.exit.code == 0);
  const auto& row = scope_row(r, "sd-daemon");
  CHECK(cgtest::killed_has(row, pids[0]));
  CHECK(cgtest::killed_has(row, pids[1]));
  CHECK(row.killed_total == 2);
  check_gone(ids, "sd-daemon", cgroup);
}

TEST_CASE("systemd scope: a child that ignores SIGTERM is killed after the grace") {
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto spec = shell_task("sd-ignorer",
                         R"sh(trap '' TERM; sleep 1000 & echo $! > "$1"; echo $$ >> "$1"; wait)sh", {file});
  auto task = system_spawner()->spawn(spec);
  std::string cgroup = unit_cgroup("cgspawn-sd-ignorer.scope");
  REQUIRE(cgtest::wait_for_lines(file, 2, scaled(60s)));
  auto ids = cgtest::identify(cgtest::read_pids(file));
  auto start = cgtest::Clock::now();
  Result r = task->finish(cgtest::destroy_options(1s, scaled(30s)));
  CHECK(cgtest::seconds_since(start) >= 1.0);  // the grace was given
  CHECK(r.exit.reason == ExitReason::destroyed);
  CHECK(r.exit.signal == SIGKILL);
  const auto& row = scope_row(r, "sd-ignorer");
  CHECK(row.killed_total == 2);
  check_gone(ids, "sd-ignorer", cgroup);
}

TEST_CASE("systemd scope: a tree of 100 processes is destroyed") {
  TempDir tmp;
  std::string file = tmp.file("pids");
  auto spec = shell_task("sd-tree", R"sh(: > "$1"; i=0
while [ $i -lt 99 ]; do sleep 1000 & echo $! >> "$1"; i=$((i+1)); done
echo $$ >> "$1"; wait)sh",
                         {file});
  spec.limits.pids_max = 200;
  auto task = system_spawner()->spawn(spec);
  std::string cgroup = unit_cgroup("cgspawn-sd-tree.scope");
  REQUIRE(cgtest::wait_for_lines(file, 100, scaled(180s)));
  auto ids = cgtest::identify(cgtest::read_pids(file));
  Result r = task->finish(cgtest::destroy_options(2s, scaled(60s)));
  const auto& row = scope_row(r, "sd-tree");
  CHECK(row.killed_total == 100);
  check_gone(ids, "sd-tree", cgroup);
}

TEST_CASE(
    "systemd scope: UnitExists from a failed unit of the same name is reset once and the start retried") {
  // A failed cgspawn-sd-exists.scope: its runtime limit ran out.
  Shell made = sh("systemd-run --quiet --unit=cgspawn-sd-exists --scope -p RuntimeMaxSec=1 /bin/sleep 60");
  CAPTURE(made.out);
  REQUIRE(unit_property("cgspawn-sd-exists.scope", "ActiveState") == "failed");
  auto task = system_spawner()->spawn(shell_task("sd-exists", "exit 7"));
  Result r = task->wait();
  CHECK(r.exit.code == 7);
  scope_row(r, "sd-exists");
  CHECK(unit_gone("cgspawn-sd-exists.scope"));
}

TEST_CASE("systemd scope: an active unit of the same name is refused, named, and left alone") {
  Child other({"/usr/bin/systemd-run", "--quiet", "--unit=cgspawn-sd-busy", "--scope", "/bin/sleep", "1000"});
  REQUIRE(cgtest::eventually([] { return unit_property("cgspawn-sd-busy.scope", "ActiveState") == "active"; },
                             scaled(60s)));
  try {
    system_spawner()->spawn(shell_task("sd-busy", "exit 0"));
    FAIL("spawn did not refuse");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("org.freedesktop.systemd1.UnitExists") != std::string::npos);
  }
  CHECK(unit_property("cgspawn-sd-busy.scope", "ActiveState") == "active");
  sh("systemctl stop cgspawn-sd-busy.scope");
  other.wait(scaled(30s));
  CHECK(cgtest::eventually([] { return unit_gone("cgspawn-sd-busy.scope"); }, scaled(30s)));
}

TEST_CASE("systemd scope: systemctl daemon-reload while the task runs does not lose it") {
  auto task = system_spawner()->spawn(shell_task("sd-reload", "exec sleep 1000"));
  std::string cgroup = unit_cgroup("cgspawn-sd-reload.scope");
  Shell reload = sh("systemctl daemon-reload");
  CHECK(reload.status == 0);
  CHECK(unit_property("cgspawn-sd-reload.scope", "ActiveState") == "active");
  CHECK(unit_cgroup("cgspawn-sd-reload.scope") == cgroup);
  CHECK_FALSE(task->try_wait().has_value());
  Result r = task->finish(cgtest::destroy_options(2s, scaled(30s)));
  CHECK(r.exit.signal == SIGTERM);
  const auto& row = scope_row(r, "sd-reload");
  CHECK(row.killed_total == 1);
  CHECK(unit_gone("cgspawn-sd-reload.scope"));
}

TEST_CASE("systemd scope: limits are unit properties, read back from cgroupfs") {
  TempDir tmp;
  std::string marker = tmp.file("forked");
  auto spec = shell_task(
      // Once the limit is reached the task's shell cannot fork either: it waits with builtins
      // only (a `$(cat ...)` there failed "Cannot fork", one run in the Debian 13 guest).
      "sd-limits", R"sh(f=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/pids.events
( i=0; while [ $i -lt 30 ]; do sleep 1000 & i=$((i+1)); done; wait ) 2>/dev/null &
while read -r k v < "$f"; [ "$v" = 0 ]; do :; done
echo done > "$1"; while :; do :; done)sh",
      {marker});
  spec.limits.memory_max_bytes = 64ull << 20;
  spec.limits.pids_max = 10;
  spec.limits.cpu_max_percent = 20;
  auto task = system_spawner()->spawn(spec);
  std::string cg = unit_cgroup("cgspawn-sd-limits.scope");
  CHECK(cgtest::read_text(cg + "/memory.max").value_or("") == std::to_string(64ull << 20) + "\n");
  CHECK(cgtest::read_text(cg + "/memory.swap.max").value_or("") == "0\n");
  CHECK(cgtest::read_text(cg + "/pids.max").value_or("") == "11\n");  // 10 + cgspawn's anchor
  CHECK(cgtest::read_text(cg + "/cpu.max").value_or("") == "20000 100000\n");
  CHECK(unit_property("cgspawn-sd-limits.scope", "TasksMax") == "11");
  REQUIRE(cgtest::eventually([&] { return cgtest::exists(marker); }, scaled(120s)));
  std::string events = cgtest::read_text(cg + "/pids.events").value_or("");
  CHECK(events.find("max 0") == std::string::npos);  // forks were refused
  CHECK(std::stoul(cgtest::read_text(cg + "/pids.current").value_or("0")) <= 11);
  CHECK(cgtest::eventually(
      [&] {
        std::string stat = cgtest::read_text(cg + "/cpu.stat").value_or("");
        auto at = stat.find("nr_throttled ");
        return at != std::string::npos && std::stoul(stat.substr(at + 13)) > 0;
      },
      scaled(60s)));
  Result r = task->finish(cgtest::destroy_options(1s, scaled(30s)));
  scope_row(r, "sd-limits");
  CHECK(r.usage.cpu_user_seconds + r.usage.cpu_system_seconds > 0);
}

TEST_CASE("systemd scope: MemoryMax exceeded: the Result shows the OOM kill and the task's fate") {
  auto spec = shell_task("sd-oom", "exec dd if=/dev/zero of=/dev/null bs=64M count=1");
  spec.limits.memory_max_bytes = 16ull << 20;
  auto task = system_spawner()->spawn(spec);
  Result r = task->wait();
  CHECK(r.exit.reason == ExitReason::signaled);
  CHECK(r.exit.signal == SIGKILL);
  REQUIRE(r.usage.oom_kills.has_value());
  CHECK(*r.usage.oom_kills >= 1);
  scope_row(r, "sd-oom");
}

TEST_CASE("systemd scope: a bad property value is refused with systemd's own error, no unit left") {
  TempDir tmp;
  std::string marker = tmp.file("ran");
  cgspawn::BackendOptions options;
  options.backend = "systemd";
  options.ledger = std::make_shared<Ledger>(tmp.file("ledger"));
  auto spec = shell_task("sd-bad", "touch \"$1\"", {marker});
  spec.limits.cpu_max_percent = 0;  // CPUQuotaPerSecUSec=0: systemd refuses it
  try {
    make_spawner(options)->spawn(spec);
    FAIL("spawn did not refuse");
  } catch (const Error& e) {
    std::string what = e.what();
    CAPTURE(what);
    CHECK(what.find("org.freedesktop.DBus.Error.InvalidArgs") != std::string::npos);
    CHECK(what.find("CPUQuotaPerSecUSec") != std::string::npos);
  }
  CHECK(unit_gone("cgspawn-sd-bad.scope"));
  CHECK(options.ledger->list().tasks.empty());
  // The forked child waits for its scope before it execs; a refused spawn kills and reaps it
  // before throwing (HeldChild), so it never ran and never will: no waiting needed.
  CHECK_FALSE(cgtest::exists(marker));
}

TEST_CASE("systemd scope: cgspawn run --backend systemd; reap after the caller is killed with SIGKILL") {
  TempDir tmp;
  std::string state = tmp.file("state"), result = tmp.file("result.json");
  RunResult ok = cgtest::run_cgspawn({"run", "-q", "--backend", "systemd", "--id", "sd-cli", "--result",
                                      result, "--", "/bin/sh", "-c", "exit 3"},
                                     scaled(120s));
  CAPTURE(ok.err);
  CHECK(ok.exit_code == 3);
  std::string json = cgtest::read_text(result).value_or("");
  CHECK(json.find("\"kind\": \"scope\"") != std::string::npos);
  CHECK(json.find("cgspawn-sd-cli.scope") != std::string::npos);
  CHECK(unit_gone("cgspawn-sd-cli.scope"));

  std::string pids = tmp.file("pids");
  Child run({cgtest::built_program("CGSPAWN_BIN"), "run", "--backend", "systemd", "--id", "sd-orphan", "--",
             "/bin/sh", "-c", "sleep 1000 & echo $! > \"$1\"; wait", "sh", pids},
            {"CGSPAWN_STATE_DIR=" + state});
  REQUIRE(cgtest::wait_for_lines(pids, 1, scaled(120s)));
  auto ids = cgtest::identify(cgtest::read_pids(pids));
  std::string cgroup = unit_cgroup("cgspawn-sd-orphan.scope");
  run.signal(SIGKILL);
  run.wait(scaled(30s));
  CHECK(unit_property("cgspawn-sd-orphan.scope", "ActiveState") == "active");  // the task outlived its caller
  Child reap({cgtest::built_program("CGSPAWN_BIN"), "reap", "--grace", "1s"}, {"CGSPAWN_STATE_DIR=" + state});
  RunResult r = reap.wait(scaled(120s));
  CAPTURE(r.out);
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  check_gone(ids, "sd-orphan", cgroup);
}

TEST_CASE(
    "systemd scope: a unit whose record was lost is an orphan of its ledger only; reap --orphans destroys "
    "it") {
  TempDir tmp;
  std::string state = tmp.file("state"), other = tmp.file("other"), pids = tmp.file("pids");
  auto cgspawn = [&](const std::string& dir, std::vector<std::string> args) {
    args.insert(args.begin(), cgtest::built_program("CGSPAWN_BIN"));
    Child c(args, {"CGSPAWN_STATE_DIR=" + dir});
    return c.wait(scaled(120s));
  };
  Child run({cgtest::built_program("CGSPAWN_BIN"), "run", "--backend", "systemd", "--id", "sd-lost", "--",
             "/bin/sh", "-c", "sleep 1000 & echo $! > \"$1\"; wait", "sh", pids},
            {"CGSPAWN_STATE_DIR=" + state});
  REQUIRE(cgtest::wait_for_lines(pids, 1, scaled(120s)));
  auto ids = cgtest::identify(cgtest::read_pids(pids));
  std::string cgroup = unit_cgroup("cgspawn-sd-lost.scope");
  run.signal(SIGKILL);
  run.wait(scaled(30s));
  REQUIRE(sh("rm -r " + state + "/sd-lost").status == 0);  // the record is lost; the unit runs on

  RunResult listed = cgspawn(state, {"list", "--json"});
  CAPTURE(listed.out);
  CHECK(listed.out.find("\"id\": \"cgspawn-sd-lost.scope\"") != std::string::npos);
  CHECK(listed.out.find("\"ours\": true") != std::string::npos);
  CHECK(cgspawn(other, {"list", "--json"}).out.find("cgspawn-sd-lost.scope") ==
        std::string::npos);  // not that ledger's

  RunResult reported = cgspawn(state, {"reap"});
  CAPTURE(reported.out);
  CHECK(reported.exit_code == 1);  // found and named, but left: only --orphans destroys it
  CHECK(reported.out.find("cgspawn-sd-lost.scope") != std::string::npos);
  CHECK(unit_property("cgspawn-sd-lost.scope", "ActiveState") == "active");

  RunResult reaped = cgspawn(state, {"reap", "--orphans", "--grace", "1s"});
  CAPTURE(reaped.out);
  CAPTURE(reaped.err);
  CHECK(reaped.exit_code == 0);
  check_gone(ids, "sd-lost", cgroup);
}

TEST_CASE(
    "systemd service (--unit-type service): exit status from ExecMain*, a daemon destroyed, no unit left") {
  TempDir tmp;
  std::string state = tmp.file("state"), pids = tmp.file("pids"), result = tmp.file("result.json");
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {cgtest::built_program("CGSPAWN_BIN"), "run", "-q", "--backend", "systemd",
                               "--unit-type", "service", "--result", result});
    Child c(args, {"CGSPAWN_STATE_DIR=" + state});
    return c.wait(scaled(120s));
  };
  RunResult exited = run({"--id", "sv-exit", "--", "/bin/sh", "-c", "exit 3"});
  CAPTURE(exited.err);
  CHECK(exited.exit_code == 3);
  std::string json = cgtest::read_text(result).value_or("");
  CAPTURE(json);
  CHECK(json.find("\"kind\": \"service\"") != std::string::npos);
  CHECK(json.find("cgspawn-sv-exit.service") != std::string::npos);
  CHECK(json.find("\"complete\": true") != std::string::npos);
  CHECK(unit_gone("cgspawn-sv-exit.service"));

  RunResult signaled = run({"--id", "sv-sig", "--", "/bin/sh", "-c", "kill -9 $$"});
  CHECK(signaled.exit_code == 128 + 9);

  RunResult timed_out = run(
      {"--id", "sv-daemon", "--timeout", "3s", "--grace", "1s", "--", "/bin/sh", "-c",
       "setsid /bin/sh -c 'sleep 1000 & echo $! > \"$1\"; wait' sh \"$1\" & exec sleep 1000", "sh", pids});
  CAPTURE(timed_out.err);
  CHECK(timed_out.exit_code == 124);
  auto daemon = cgtest::identify(cgtest::read_pids(pids));
  REQUIRE(daemon.size() == 1);
  CHECK(cgtest::still_alive(daemon, scaled(10s)).empty());
  CHECK(unit_gone("cgspawn-sv-daemon.service"));

  RunResult missing = run({"--id", "sv-missing", "--", "/nonexistent/program"});
  CHECK(missing.exit_code == 127);
  CHECK(unit_gone("cgspawn-sv-missing.service"));
}

// systemd broadcasts on the bus the end of every job a client of the bus asked for (JobRemoved):
// a supervisor waiting for no job of its own must not be sent them, or N tasks move N x N
// messages for their starts and stops (each queued in every idle supervisor's socket).
TEST_CASE("systemd scope: a running task's supervisor is not sent the ends of other tasks' jobs") {
  TempDir tmp;
  std::vector<std::string> env = {"CGSPAWN_STATE_DIR=" + tmp.file("state")};
  auto cgspawn = [&](std::vector<std::string> args) {
    args.insert(args.begin(), cgtest::built_program("CGSPAWN_BIN"));
    return Child(args, env).wait(scaled(120s));
  };
  RunResult started =
      cgspawn({"start", "--backend", "systemd", "--id", "own-jobs", "--", "/bin/sleep", "1000"});
  CAPTURE(started.err);
  REQUIRE(started.exit_code == 0);
  struct DestroyedAtEnd {  // also when a check below fails
    std::function<RunResult(std::vector<std::string>)> cgspawn;
    ~DestroyedAtEnd() { cgspawn({"destroy", "own-jobs", "--grace", "0s"}); }
  } guard{cgspawn};
  auto record = Ledger(tmp.file("state")).read("own-jobs");
  REQUIRE(record);
  pid_t supervisor = record->owner.pid;
  long long before = unread_socket_bytes(supervisor);
  REQUIRE(before >= 0);
  for (int i = 0; i < 3; ++i) {  // other tasks' start and stop jobs, asked over the bus
    RunResult other = cgspawn({"run", "-q", "--backend", "systemd", "--", "/bin/true"});
    CHECK_MESSAGE(other.exit_code == 0, other.err);
  }
  long long after = unread_socket_bytes(supervisor);
  CHECK(after == before);
  RunResult destroyed = cgspawn({"destroy", "own-jobs", "--grace", "0s"});
  CAPTURE(destroyed.err);
  CHECK(destroyed.exit_code == 0);  // its own stop job's end did reach it
  CHECK(unit_gone("cgspawn-own-jobs.scope"));
}

TEST_CASE("systemd service: start, then wait gives the status systemd recorded; destroy collects it") {
  TempDir tmp;
  std::string state = tmp.file("state");
  auto cgspawn = [&](std::vector<std::string> args) {
    args.insert(args.begin(), cgtest::built_program("CGSPAWN_BIN"));
    Child c(args, {"CGSPAWN_STATE_DIR=" + state});
    return c.wait(scaled(120s));
  };
  RunResult started = cgspawn({"start", "--backend", "systemd", "--unit-type", "service", "--id", "sv-start",
                               "--", "/bin/sh", "-c", "sleep 1; exit 5"});
  CAPTURE(started.err);
  REQUIRE(started.exit_code == 0);
  RunResult waited = cgspawn({"wait", "sv-start", "--timeout", "60s"});
  CAPTURE(waited.err);
  CHECK(waited.exit_code == 5);
  RunResult destroyed = cgspawn({"destroy", "sv-start"});
  CHECK(destroyed.exit_code == 0);
  CHECK(unit_gone("cgspawn-sv-start.service"));
}

TEST_CASE(
    "systemd scope and service: a ledger update that fails during spawn leaves no process, unit or record") {
  TempDir state_parent;
  auto ledger = std::make_shared<const Ledger>(state_parent.file("ledger"));
  for (std::string type : {"scope", "service"}) {
    BackendOptions options;
    options.backend = "systemd";
    options.unit_type = type;
    options.ledger = ledger;
    auto spawner = make_spawner(options);
    // A scope is updated when its cgroup is verified, and when the main program runs; a
    // service once, when it runs.
    for (int nth : type == "scope" ? std::vector<int>{1, 2} : std::vector<int>{1}) {
      CAPTURE(type);
      CAPTURE(nth);
      std::string id = "ledgerfault-" + type + std::to_string(nth);
      TaskSpec spec;
      spec.id = id;
      spec.argv = {"/bin/sleep", "4242.125"};
      {
        cgtest::FailingRecordUpdates faults(nth);
        CHECK_THROWS_AS(spawner->spawn(spec), Error);
        CHECK(faults.failed() == 1);
      }
      CHECK(cgtest::processes_running("sleep 4242.125").empty());
      CHECK(unit_gone("cgspawn-" + id + "." + type));
      CHECK(ledger->list().tasks.empty());
      CHECK_FALSE(cgtest::exists(ledger->dir() + "/" + id));
    }
  }
}

TEST_CASE("systemd scope: processes are handed over by PIDFDs where systemd knows them, by PIDs before") {
  // systemd >= 255 takes the held process as a pidfd (no pid reuse race); 252 does not know the
  // property, and cgspawn falls back to PIDs, saying so at debug level. Both guests run this.
  Shell version = sh("systemctl --version");
  REQUIRE(version.status == 0);
  int major = std::atoi(version.out.c_str() + version.out.find(' ') + 1);
  CAPTURE(version.out);
  REQUIRE(major >= 252);
  RunResult r = cgtest::run_cgspawn({"--log-level", "debug", "run", "--backend", "systemd", "--id",
                                     "sd-handover", "--", "/bin/sh", "-c", "exit 4"},
                                    scaled(120s));
  CAPTURE(r.err);
  CHECK(r.exit_code == 4);
  // spdlog's log goes to stdout.
  bool fell_back = (r.out + r.err).find("the manager does not know PIDFDs") != std::string::npos;
  if (major >= 255)
    CHECK_FALSE(fell_back);
  else
    CHECK(fell_back);
  CHECK(unit_gone("cgspawn-sd-handover.scope"));
}

TEST_CASE("systemd scope and service: --scratch, --private-tmp and --private-ipc, gone with the unit") {
  TempDir tmp;
  for (std::string type : {"scope", "service"}) {
    CAPTURE(type);
    std::string id = "storage-" + type, mark = "/dev/shm/cgspawn-test-" + id;
    std::string scratch = "/var/tmp/cgspawn-scratch/" + id, result = tmp.file(id + ".json");
    // /var/tmp holds one entry inside: the way to the scratch directory, bound back into place.
    std::string body =
        "touch \"$CGSPAWN_SCRATCH/f\" && echo scratch=$(ls \"$CGSPAWN_SCRATCH\"); echo shm=$(ls -A "
        "/dev/shm | wc -l) var=$(ls -A /var/tmp); : > " +
        mark + "; ipcmk -Q > /dev/null && echo queues=$(ipcs -q | grep -c '^0x')";
    Child run({cgtest::built_program("CGSPAWN_BIN"),
               "run",
               "-q",
               "--backend",
               "systemd",
               "--unit-type",
               type,
               "--id",
               id,
               "--scratch",
               "--private-tmp",
               "--private-ipc",
               "--chdir",
               "/",
               "--result",
               result,
               "--",
               "/bin/sh",
               "-c",
               body});
    RunResult r = run.wait(scaled(120s));
    CAPTURE(r.err);
    std::string journal =
        r.exit_code == 0 ? "" : sh("journalctl --no-pager -n 20 -u cgspawn-" + id + "." + type).out;
    CAPTURE(journal);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "scratch=f\nshm=0 var=cgspawn-scratch\nqueues=1\n");
    std::string text = cgtest::read_text(result).value_or("");
    CAPTURE(text);
    CHECK(text.find("\"kind\": \"directory\"") != std::string::npos);
    CHECK(text.find("\"id\": \"" + scratch + "\"") != std::string::npos);
    CHECK(text.find("\"complete\": true") != std::string::npos);
    CHECK_FALSE(cgtest::exists(scratch));
    CHECK_FALSE(cgtest::exists(mark));
    CHECK(unit_gone("cgspawn-" + id + "." + type));
  }
}

// A timed-out unit's hang report, taken from the unit's cgroup frozen (the scope's anchor, cgspawn's
// own, left out), and the usage read from it before the unit is stopped, with the pressure
// fields where the kernel has PSI.
TEST_CASE("systemd scope and service: a timed-out task's hang report and its usage") {
  TempDir tmp;
  bool psi = cgtest::exists("/proc/pressure/cpu");
  for (std::string type : {"scope", "service"}) {
    CAPTURE(type);
    std::string id = "hang-" + type, result = tmp.file(id + ".json");
    Child run({cgtest::built_program("CGSPAWN_BIN"),
               "run",
               "--backend",
               "systemd",
               "--unit-type",
               type,
               "--id",
               id,
               "--timeout",
               std::to_string(scaled(3s).count()) + "ms",
               "--grace",
               "1s",
               "--chdir",
               "/",
               "--result",
               result,
               "--",
               "/bin/sh",
               "-c",
               "sleep 1000 | cat"});
    RunResult r = run.wait(scaled(120s));
    CAPTURE(r.err);
    CHECK(r.exit_code == 124);
    auto j = nlohmann::json::parse(cgtest::read_text(result).value_or("{}"));
    REQUIRE(j.contains("hang"));
    const auto& hang = j.at("hang");
    CHECK(hang.at("frozen") == true);
    CHECK(hang.at("processes").size() == 3);  // sh, sleep, cat: not the scope's anchor
    bool cat = false;
    for (const auto& p : hang.at("processes")) {
      if (p.at("cmdline") != "cat") continue;
      cat = true;
      CHECK(p.at("state") == "S");
      CHECK(p.at("threads")[0].at("wchan").get<std::string>().find("pipe_read") != std::string::npos);
    }
    CHECK(cat);
    CHECK(r.err.find("what it was doing (frozen, 3 process(es)") != std::string::npos);
    const auto& usage = j.at("usage");
    CHECK(usage.contains("pressure") == psi);
    CHECK(usage.contains("host_pressure") == psi);
    CHECK(usage.contains("starved") == psi);
    CHECK(j.at("cleanup").at("complete") == true);
    CHECK(unit_gone("cgspawn-" + id + "." + type));
  }
}
