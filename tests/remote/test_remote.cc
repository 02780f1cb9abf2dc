// SPDX-License-Identifier: MIT
// The remote backend against real private sshds (tests/remote/lab-up.sh): containment on the
// remote, byte-exact argv, in-band exit status, honesty when the host is unreachable or hung,
// the lease, reap, and failures at start. Bounds are generous (3x the configured value).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "cgspawn/cgspawn.hpp"
#include "host.hpp"
#include "ledger_faults.hpp"
#include "remote_checks.hpp"
#include "remote_lab.hpp"

using namespace std::chrono_literals;
using cgtest::RunResult;
using cgtest::TempDir;
using rtest::Lab;
using namespace rtest::checks;

TEST_CASE("capabilities: the probe shows what the remote has") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  RunResult r = rtest::cgspawn_in(state_dir(dir), {"backends", "--host", lab.alias(), "--ssh-config",
                                                   lab.config(), "--state-dir", state_dir(dir)});
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  // The fake remote shares this host's cgroup2 mount (in its own cgroup namespace).
  CHECK(r.out.find("a task cgroup under " + cgtest::cgroup2_mount() + "/cgspawn-remote on " + lab.alias() +
                   ", made by the built-in agent") != std::string::npos);
  CHECK(r.out.find("systemd-run with systemd as PID 1: no") != std::string::npos);
  // Without the memory controller in cgroup2 (a hybrid host), every limit says so.
  std::string controllers = cgtest::read_text(cgtest::cgroup2_mount() + "/cgroup.controllers").value_or("");
  if (controllers.find("memory") == std::string::npos)
    CHECK(r.out.find("the memory controller is not enabled in " + cgtest::cgroup2_mount() +
                     " on the remote") != std::string::npos);
  CHECK(rtest::local_ssh_processes(state_dir(dir)).empty());
}

TEST_CASE("hostile argv arrives byte-exact under a bash login shell") {
  check_argv_byte_exact(rtest::bash_lab());
}
TEST_CASE("hostile argv arrives byte-exact under a dash login shell") {
  check_argv_byte_exact(rtest::dash_lab());
}
TEST_CASE("the task's exit status travels in-band (0, 7, 255, and a signal)") {
  check_exit_status(rtest::bash_lab());
}

TEST_CASE("the task cannot forge its status: the agent's mark is on no command line it can read") {
  check_status_unforgeable(rtest::bash_lab());
}

TEST_CASE("--lease none: the task runs without one, and its report says so") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string result = dir.file("result.json");
  RunResult r = rtest::cgspawn_in(
      state_dir(dir), rtest::remote_args("run", lab, state_dir(dir),
                                         {"-q", "--lease", "none", "--result", result}, {"true"}));
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  std::string json = cgtest::read_text(result).value_or("");
  CAPTURE(json);
  CHECK(json.find("the task had no lease (--lease none)") != std::string::npos);
  CHECK(json.find("\"complete\": true") != std::string::npos);
  check_nothing_left(lab, state_dir(dir));
}

TEST_CASE(
    "two ledgers start the same task id on one remote: two remote cgroups, destroying one spares the other") {
  const Lab& lab = rtest::bash_lab();
  TempDir a, b;
  for (const TempDir* d : {&a, &b}) {
    RunResult s = rtest::cgspawn_in(
        state_dir(*d), rtest::remote_args("start", lab, state_dir(*d), {"--id", "same"}, {"sleep", "600"}));
    INFO(all_of(s));
    REQUIRE(s.exit_code == 0);
  }
  CHECK(rtest::wait_until([&] { return rtest::remote_task_cgroups(lab).size() == 2; }, 10s));
  RunResult d =
      rtest::cgspawn_in(state_dir(a), {"destroy", "same", "--state-dir", state_dir(a), "--grace", "0s"});
  INFO(all_of(d));
  CHECK(d.exit_code == 0);
  CHECK(rtest::remote_task_cgroups(lab).size() == 1);  // b's task runs on
  RunResult status =
      rtest::cgspawn_in(state_dir(b), {"status", "same", "--state-dir", state_dir(b), "--json"});
  CHECK(status.out.find("\"running\"") != std::string::npos);
  RunResult d2 =
      rtest::cgspawn_in(state_dir(b), {"destroy", "same", "--state-dir", state_dir(b), "--grace", "0s"});
  CHECK(d2.exit_code == 0);
  check_nothing_left(lab, state_dir(a));
  check_nothing_left(lab, state_dir(b));
}

TEST_CASE(
    "escapees on the remote (setsid daemon, SIGTERM ignorer, 100 sleepers) are destroyed and verified") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  Escapees escapees = start_escapees(lab, state, 100);
  const std::string& id = escapees.id;
  RunResult destroy = rtest::cgspawn_in(state, {"destroy", "--state-dir", state, id});
  INFO(all_of(destroy));
  CHECK(destroy.exit_code == 0);
  CHECK(destroy.out.find("destroyed") != std::string::npos);
  CHECK(rtest::remote_task_cgroups(lab).empty());
  CHECK(alive_count(escapees.pids) == 0);
  check_nothing_left(lab, state);
}

TEST_CASE("a PID namespace on the remote: its PIDs differ from ours and confuse nothing") {
  const Lab& lab = rtest::dash_lab();
  TempDir dir;
  std::string state = state_dir(dir), out = dir.file("out");
  RunResult start = rtest::cgspawn_in(state, rtest::remote_args("start", lab, state, {"--stdout", out},
                                                                {"sh", "-c", "echo $$; exec sleep 600"}));
  INFO(all_of(start));
  REQUIRE(start.exit_code == 0);
  std::string id = start.out.substr(0, start.out.find('\n'));
  // The task's own sleep, as this host numbers it (the agent's wrapper shell is there too).
  int host_pid = 0;
  CHECK(rtest::wait_until(
      [&] {
        for (int p : rtest::remote_task_pids(lab))
          if (cgtest::read_text("/proc/" + std::to_string(p) + "/cmdline").value_or("") ==
              std::string("sleep\0"
                          "600\0",
                          10))
            host_pid = p;
        return host_pid != 0 && !cgtest::read_text(out).value_or("").empty();
      },
      20s));
  int remote_pid = std::atoi(cgtest::read_text(out).value_or("0").c_str());
  CHECK(remote_pid > 0);
  CHECK(remote_pid != host_pid);
  RunResult destroy = rtest::cgspawn_in(state, {"destroy", "--state-dir", state, id});
  INFO(all_of(destroy));
  CHECK(destroy.exit_code == 0);
  CHECK(destroy.out.find("destroyed") != std::string::npos);
  if (host_pid) CHECK_FALSE(pid_alive(host_pid));
  check_nothing_left(lab, state);
}

TEST_CASE("partition with --lease none: the task runs on there, as the report says, until reap reaches it") {
  check_partition_without_lease(rtest::bash_lab());
}

TEST_CASE("partition: destroy is not-guaranteed in bounded time, the lease kills the task, reap completes") {
  check_partition(rtest::bash_lab());
}

TEST_CASE(
    "hung remote (its processes stopped): destroy is not-guaranteed in bounded time; reap completes after") {
  const Lab& lab = rtest::bash_lab();
  BackgroundRun run(lab, {"--lease", "3s", "--grace", "0s"});
  double took = 0;
  stop_under_fault(lab, run, "freeze", took);
  lab.fault("thaw");
  std::string state = state_dir(run.dir);
  reap_completes(state);
  check_nothing_left(lab, state);
}

TEST_CASE("the local side SIGKILLed mid-task: with a lease the remote task dies; reap confirms") {
  const Lab& lab = rtest::bash_lab();
  check_sigkill_then_reap(lab);
}

TEST_CASE(
    "a master SIGKILLed with nobody left to clean up: its stale socket neither blocks the next start nor "
    "stays") {
  const Lab& lab = rtest::bash_lab();
  BackgroundRun run(lab, {"--lease", "3s"});
  REQUIRE(populated_with(lab, 2));
  std::string state = state_dir(run.dir);
  run.child->signal(SIGKILL);
  run.child->wait(10s);
  for (int pid : rtest::local_ssh_processes(state)) ::kill(pid, SIGKILL);  // the master and the session
  REQUIRE(rtest::wait_until([&] { return rtest::local_ssh_processes(state).empty(); }, 5s));
  // The control socket is left behind, with no master behind it.
  RunResult next = rtest::cgspawn_in(state, rtest::remote_args("run", lab, state, {"-q"}, {"true"}));
  INFO(all_of(next));
  CHECK(next.exit_code == 0);
  reap_completes(state);
  check_nothing_left(lab, state);
}

TEST_CASE("running remote tasks keep no local ssh process of their own: their master serves their sessions") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  Sleepers sleepers(state);
  size_t sessions_before = sshd_log_lines(lab, "Starting session:");
  for (const char* id : {"a", "b", "c"}) sleepers.start(lab, id);
  CHECK(sshd_log_lines(lab, "Starting session:") - sessions_before == 3);
  // One master for the three, and no ssh beside it (an ssh client per session before).
  REQUIRE(control_sockets(state).size() == 1);
  CHECK(rtest::local_ssh_processes(state).size() == 1);
}

TEST_CASE("with its master up, a remote task's start, hang report, kill and run need no ssh binary") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  Sleepers sleepers(state);
  sleepers.start(lab, "a");  // its master is the one the others use
  // No ssh on PATH from here on: every session goes over the master's socket.
  std::string no_ssh = dir.file("no-ssh");
  REQUIRE(std::filesystem::create_directory(no_ssh));
  std::vector<std::string> env = rtest::cgspawn_env(state);
  env.push_back("PATH=" + no_ssh);
  auto cgspawn = [&](const std::vector<std::string>& args) {
    return cgtest::Child(rtest::cgspawn_argv(args), env).wait(90s);
  };
  RunResult b = cgspawn(rtest::remote_args("start", lab, state, {"--id", "b"}, {"sleep", "600"}));
  INFO(all_of(b));
  REQUIRE(b.exit_code == 0);
  REQUIRE(populated_with(lab, 4));  // a's and b's agent and sleep
  RunResult d = cgspawn({"destroy", "b", "--state-dir", state, "--grace", "0s"});
  INFO(all_of(d));
  CHECK(d.exit_code == 0);
  CHECK(d.out.find("what it was doing (frozen") != std::string::npos);  // the hang report
  CHECK(d.out.find("destroyed in") != std::string::npos);
  RunResult r = cgspawn(rtest::remote_args("run", lab, state, {"-q"}, {"sh", "-c", "exit 4"}));
  INFO(all_of(r));
  CHECK(r.exit_code == 4);
}

namespace {

// The name cgspawn gives this lab's control socket in `state`: seen while a task runs.
std::string control_socket_of(const Lab& lab, const std::string& state) {
  RunResult s =
      rtest::cgspawn_in(state, rtest::remote_args("start", lab, state, {"--id", "probe"}, {"sleep", "600"}));
  REQUIRE(s.exit_code == 0);
  std::vector<std::string> sockets = control_sockets(state);
  std::string name = sockets.empty() ? "" : sockets.back();
  RunResult d = rtest::cgspawn_in(state, {"destroy", "probe", "--state-dir", state, "--grace", "0s"});
  REQUIRE(d.exit_code == 0);
  REQUIRE_FALSE(name.empty());
  return name;
}

// Something that is not ssh listens on `path` and never answers.
struct SilentListener {
  explicit SilentListener(const std::string& socket_path) : path(socket_path) {
    ::mkdir(path.substr(0, path.rfind('/')).c_str(), 0700);
    fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 8) == 0);
  }
  ~SilentListener() {
    ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(path.substr(0, path.rfind('/')).c_str());
  }
  std::string path;
  int fd = -1;
};

}  // namespace

TEST_CASE("a master that cannot take its control socket: the start fails saying so, and its ssh is stopped") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  std::string socket = control_socket_of(lab, state);
  {
    SilentListener squatter(socket);
    RunResult r = rtest::cgspawn_in(state, rtest::remote_args("run", lab, state, {"-q"}, {"true"}));
    INFO(all_of(r));
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("its master does not answer on " + socket) != std::string::npos);
    CHECK(r.err.find("was stopped") != std::string::npos);
    CHECK(rtest::wait_until([&] { return rtest::local_ssh_processes(state).empty(); }, 5s));
  }
  check_nothing_left(lab, state);
}

TEST_CASE("a start that fails on a host keeps the master another cgspawn's task there still uses") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  RunResult a =
      rtest::cgspawn_in(state, rtest::remote_args("start", lab, state, {"--id", "a"}, {"sleep", "600"}));
  REQUIRE(a.exit_code == 0);
  RunResult refused =
      rtest::cgspawn_in(state, rtest::remote_args("run", lab, state, {"--memory-max", "64M"}, {"true"}));
  INFO(all_of(refused));
  CHECK(refused.exit_code == 125);
  // `ssh -O exit` returns once the master has taken the request; a master told to exit serves
  // no later client, so this check fails at once if the refused run closed it.
  std::vector<std::string> sockets = control_sockets(state);
  REQUIRE(sockets.size() == 1);
  RunResult check = cgtest::Child({"/usr/bin/ssh", "-S", sockets[0], "-O", "check", "placeholder"}).wait(10s);
  INFO(all_of(check));
  CHECK(check.exit_code == 0);
  RunResult status = rtest::cgspawn_in(state, {"status", "a", "--state-dir", state, "--json"});
  INFO(all_of(status));
  CHECK(status.out.find("\"running\"") != std::string::npos);
  CHECK(rtest::remote_task_cgroups(lab).size() == 1);
  RunResult d = rtest::cgspawn_in(state, {"destroy", "a", "--state-dir", state, "--grace", "0s"});
  INFO(all_of(d));
  CHECK(d.exit_code == 0);
  CHECK(d.out.find("ssh-master") != std::string::npos);
  check_nothing_left(lab, state);
}

namespace {

// Established TCP connections from this host to the lab's sshd.
size_t ssh_connections_to(const Lab& lab) {
  std::string cmd =
      "ss -Htn state established dst 10.200." + std::to_string(lab.n) + ".2 | grep -c ':2222 *$'";
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[64] = {};
  if (p) {
    if (!std::fgets(buf, sizeof buf, p)) buf[0] = 0;
    ::pclose(p);
  }
  return static_cast<size_t>(std::atoi(buf));
}

}  // namespace

TEST_CASE(
    "more tasks on one host than its sshd's MaxSessions (10): a second master, every session multiplexed; "
    "orphans on both reaped at once") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  constexpr int kTasks = 14;
  Sleepers sleepers(state);
  for (int i = 0; i < kTasks; ++i) sleepers.start(lab, "m" + std::to_string(i));
  CHECK(rtest::wait_until([&] { return rtest::remote_task_cgroups(lab).size() == kTasks; }, 10s));
  size_t masters = control_sockets(state).size();
  CHECK(masters == 2);
  CHECK_MESSAGE(ssh_connections_to(lab) == masters, "a session went over a connection of its own");
  for (int i = 0; i < kTasks / 2; ++i) {
    RunResult d =
        rtest::cgspawn_in(state, {"destroy", "m" + std::to_string(i), "--state-dir", state, "--grace", "0s"});
    INFO(all_of(d));
    CHECK(d.exit_code == 0);
  }
  // The rest, on both masters, orphaned: one reap destroys them side by side, each session over
  // a master that another task's destroy must not close under it (nor leave behind).
  RunResult list = rtest::cgspawn_in(state, {"list", "--json", "--state-dir", state});
  std::vector<pid_t> supervisors;
  const nlohmann::json listed = nlohmann::json::parse(list.out);
  for (const auto& t : listed.at("tasks")) supervisors.push_back(t.at("owner").at("pid").get<pid_t>());
  CHECK(supervisors.size() == kTasks - kTasks / 2);
  auto ids = cgtest::identify(supervisors);
  for (pid_t p : supervisors) ::kill(p, SIGKILL);
  CHECK(cgtest::still_alive(ids, 10s).empty());
  RunResult reap = rtest::cgspawn_in(state, {"reap", "--state-dir", state, "--grace", "0s", "--json"});
  INFO(all_of(reap));
  CHECK(reap.exit_code == 0);
  CHECK(nlohmann::json::parse(reap.out).at("complete") == true);
  check_nothing_left(lab, state);  // the sleepers' destroys then find nothing
}

TEST_CASE(
    "a task killed on the remote itself, nobody left to say EXITED: run ends at once, its cleanup complete") {
  const Lab& lab = rtest::bash_lab();
  BackgroundRun run(lab, {});
  REQUIRE(populated_with(lab, 2));
  auto cgroups = rtest::remote_task_cgroups(lab);
  REQUIRE(cgroups.size() == 1);
  cgtest::write_text(lab.task_parent() + "/" + cgroups[0] + "/cgroup.kill", "1");
  RunResult r = run.child->wait(10s);
  INFO(all_of(r));
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("exited with no exit status") != std::string::npos);
  CHECK(r.err.find("cleanup complete") != std::string::npos);
  check_nothing_left(lab, state_dir(run.dir));
}

TEST_CASE(
    "a task that ends after its ledger directory was removed: its supervisor does not make the directory "
    "again") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  RunResult s = rtest::cgspawn_in(
      state, rtest::remote_args("start", lab, state, {"--id", "orphaned", "--json"}, {"sleep", "600"}));
  INFO(all_of(s));
  REQUIRE(s.exit_code == 0);
  const auto owner = nlohmann::json::parse(s.out).at("task").at("owner");
  REQUIRE(owner.at("kind") == "supervisor");
  auto supervisor = cgtest::identify({owner.at("pid").get<pid_t>()});
  auto cgroups = rtest::remote_task_cgroups(lab);
  REQUIRE(cgroups.size() == 1);
  std::filesystem::remove_all(state);
  cgtest::write_text(lab.task_parent() + "/" + cgroups[0] + "/cgroup.kill",
                     "1");                              // the task ends on the remote
  CHECK(cgtest::still_alive(supervisor, 30s).empty());  // its supervisor is done: all it did, it did
  CHECK(rtest::local_ssh_processes(state).empty());
  CHECK_FALSE(cgtest::exists(state));
  // The test removed the record; the output that went with it is the test's to remove.
  std::filesystem::remove_all(rtest::output_root(state));
  check_nothing_left(lab, state);
}

TEST_CASE(
    "parallel cgspawn processes on one ledger and host share the master, open and close it, and refuse "
    "nobody") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  constexpr int kProcesses = 8, kRunsEach = 12;
  std::vector<std::string> failures[kProcesses];
  std::vector<std::thread> runners;
  for (int p = 0; p < kProcesses; ++p) {
    runners.emplace_back([&, p] {
      for (int i = 0; i < kRunsEach; ++i) {
        RunResult r = rtest::cgspawn_in(state, rtest::remote_args("run", lab, state, {"-q"}, {"true"}));
        if (r.exit_code != 0 || !r.err.empty()) failures[p].push_back(all_of(r));
      }
    });
  }
  for (auto& t : runners) t.join();
  for (const auto& f : failures)
    CHECK_MESSAGE(f.empty(), f.size() << " failed, the first: " << (f.empty() ? "" : f[0]));
  check_nothing_left(lab, state);
}

TEST_CASE("start failures exit 125 with the reason (ssh's, or the agent's) and leave nothing") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  SUBCASE("auth failure") {
    std::string key = dir.file("other_key");
    REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + key).c_str()) == 0);
    check_start_failure(lab, config_with(lab, dir, "IdentityFile", key), "Permission denied");
  }
  SUBCASE("unknown host key") {
    cgtest::write_text(dir.file("known_hosts"), "");
    check_start_failure(lab, config_with(lab, dir, "UserKnownHostsFile", dir.file("known_hosts")),
                        "Host key verification failed");
  }
  SUBCASE("a limit the remote cannot enforce: refused, naming the controller and the host") {
    check_start_failure(lab, lab.config(), "the memory controller is not available on remote",
                        {"--memory-max", "64M"});
  }
  SUBCASE("a lease too short to survive a healthy connection") {
    check_start_failure(lab, lab.config(), "is too short: use at least 3s, or none", {"--lease", "1s"});
  }
  SUBCASE("unreachable host") {
    lab.fault("drop");
    check_start_failure(lab, lab.config(), "Connection timed out");
    lab.fault("undrop");
  }
}

TEST_CASE(
    "a ledger update that fails during spawn (after the master, after the task started): nothing left, here "
    "or there") {
  const Lab& lab = rtest::bash_lab();
  cgtest::TempDir dir;
  std::string state = state_dir(dir);
  auto ledger = std::make_shared<const cgspawn::Ledger>(state);
  cgspawn::BackendOptions options;
  options.backend = "remote";
  options.host = lab.alias();
  options.ssh_config = lab.config();
  options.lease = std::chrono::seconds(3);
  options.ledger = ledger;
  auto spawner = cgspawn::make_spawner(options);
  // Update 1 follows the master; update 2 follows STARTED (the task runs there then).
  for (int nth : {1, 2}) {
    CAPTURE(nth);
    cgspawn::TaskSpec spec;
    spec.id = "ledgerfault" + std::to_string(nth);
    spec.argv = {"sleep", "4242.75"};
    {
      cgtest::FailingRecordUpdates faults(nth);
      CHECK_THROWS_AS(spawner->spawn(spec), cgspawn::Error);
      CHECK(faults.failed() == 1);
    }
    CHECK(cgtest::processes_running("sleep 4242.75").empty());
    CHECK(ledger->list().tasks.empty());
    check_nothing_left(lab, state);
  }
}

// Storage on the remote (docs/backends.md, "Storage"): the scratch directory is made and removed
// on the remote host; the private /tmp is made there.
namespace {

// The scratch directory as the remote sees it: "yes" or "no".
std::string remote_dir_exists(const Lab& lab, const std::string& path) {
  return lab.ssh("test -e " + path + " && echo yes || echo no");
}

void check_remote_scratch(const Lab& lab) {
  TempDir dir;
  std::string result = dir.file("result.json"), id = "scr" + std::to_string(lab.n);
  std::string path = "/var/tmp/cgspawn-scratch/" + id;
  std::string body =
      "echo \"$CGSPAWN_SCRATCH $TMPDIR\"; touch \"$CGSPAWN_SCRATCH/f\" && ls \"$CGSPAWN_SCRATCH\"; echo "
      "shm=$(ls -A /dev/shm | wc -l); : > /dev/shm/cgspawn-test-remote-" +
      id +
      "; ipcmk -Q >/dev/null && echo "
      "queues=$(ipcs -q | grep -c '^0x')";
  RunResult r =
      rtest::cgspawn_in(state_dir(dir), rtest::remote_args("run", lab, state_dir(dir),
                                                           {"-q", "--id", id, "--scratch", "--private-tmp",
                                                            "--private-ipc", "--result", result},
                                                           {"sh", "-c", body}));
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == path + " " + path + "\nf\nshm=0\nqueues=1\n");
  nlohmann::json j = nlohmann::json::parse(cgtest::read_text(result).value_or("{}"));
  bool removed = false;
  for (const auto& row : j.at("cleanup").at("resources"))
    removed = removed || (row.at("kind") == "directory" && row.at("id") == lab.alias() + ":" + path &&
                          row.at("outcome") == "destroyed");
  CHECK(removed);
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(remote_dir_exists(lab, path) == "no\n");
  CHECK(remote_dir_exists(lab, "/dev/shm/cgspawn-test-remote-" + id) == "no\n");
  check_nothing_left(lab, state_dir(dir));
}

}  // namespace

TEST_CASE("storage: a scratch directory made, used and removed on the remote; private /tmp and IPC there") {
  check_remote_scratch(rtest::bash_lab());
}
TEST_CASE("storage: the same through the remote's installed cgspawn") {
  check_remote_scratch(rtest::cgspawn_lab());
}

TEST_CASE("storage: after a partition the remote scratch directory is not-guaranteed, and reap removes it") {
  const Lab& lab = rtest::bash_lab();
  BackgroundRun run(lab, {"--lease", "3s", "--grace", "0s", "--id", "part", "--scratch"});
  std::string path = "/var/tmp/cgspawn-scratch/part";
  REQUIRE(rtest::wait_until([&] { return cgtest::exists(path); }, 10s));  // the lab shares /var/tmp
  double took = 0;
  RunResult r = stop_under_fault(lab, run, "drop", took);
  lab.fault("undrop");
  INFO(all_of(r));
  CHECK(r.err.find("directory " + lab.alias() + ":" + path + ": not-guaranteed") != std::string::npos);
  CHECK(r.err.find("until `cgspawn reap` reaches the host") != std::string::npos);
  CHECK(remote_dir_exists(lab, path) == "yes\n");
  std::string state = state_dir(run.dir);
  RunResult reap = reap_completes(state);
  CHECK(reap.out.find("directory " + lab.alias() + ":" + path + ": destroyed") != std::string::npos);
  CHECK(remote_dir_exists(lab, path) == "no\n");
  check_nothing_left(lab, state);
}

namespace {

// A timed-out remote task blocked in read() on a pipe: the agent takes the hang report there,
// before anything is signalled, with the task's cgroup frozen (a remote unit's, the installed
// cgspawn's, or the agent's own).
void check_remote_hang(const Lab& lab) {
  TempDir dir;
  std::string result = dir.file("result.json"), id = "hang" + std::to_string(lab.n);
  // The task works in a directory whose name holds a newline: the report's line for it stays one.
  std::string cwd = dir.file("line\nbreak");
  REQUIRE(std::filesystem::create_directory(cwd));
  RunResult r = rtest::cgspawn_in(
      state_dir(dir),
      rtest::remote_args("run", lab, state_dir(dir),
                         {"--id", id, "--timeout", "2s", "--grace", "200ms", "--result", result},
                         {"sh", "-c", "cd \"$1\" && sleep 1000 | cat", "sh", cwd}));
  INFO(all_of(r));
  CHECK(r.exit_code == 124);
  nlohmann::json j = nlohmann::json::parse(cgtest::read_text(result).value_or("{}"));
  REQUIRE(j.contains("hang"));
  const auto& hang = j.at("hang");
  CHECK(hang.at("frozen") == true);
  CHECK(hang.at("note").get<std::string>().find("by the agent") != std::string::npos);
  bool cat = false;
  for (const auto& p : hang.at("processes")) {
    if (p.at("cmdline") != "cat") continue;
    cat = true;
    CHECK(p.at("state") == "S");
    CHECK(p.at("comm") == "cat");
    CHECK(p.at("cwd") == dir.file("line break"));
    CHECK(p.at("threads")[0].at("wchan").get<std::string>().find("pipe_read") != std::string::npos);
    CHECK(p.at("open_files")[0].get<std::string>().rfind("0 pipe:[", 0) == 0);
    CHECK(p.at("age_seconds").get<double>() > 1.0);
  }
  CHECK(cat);
  CHECK(r.err.find("what it was doing (frozen,") != std::string::npos);
  CHECK(j.at("cleanup").at("complete") == true);
  check_nothing_left(lab, state_dir(dir));
}

// Tasks that have run long enough for their agents to look only every half second are
// destroyed one by one: each destroy returns soon after its remote cgroup is gone, because the
// kill session wakes the task's agent, which then ends the task's session at once (10-80 ms
// here). Without the wake each waited for the agent's next turn: 0.13-0.50 s, measured.
void check_destroy_wakes_agent(const Lab& lab) {
  TempDir dir;
  std::string state = state_dir(dir);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back("wake" + std::to_string(i));
    RunResult s = rtest::cgspawn_in(
        state, rtest::remote_args("start", lab, state, {"--id", ids.back()}, {"sleep", "600"}));
    INFO(all_of(s));
    REQUIRE(s.exit_code == 0);
  }
  std::this_thread::sleep_for(1500ms);  // the agents' turns have grown to half a second
  for (const auto& id : ids) {
    std::string cgroup;
    for (const auto& name : rtest::remote_task_cgroups(lab))
      if (name.size() > id.size() &&
          name.compare(name.size() - id.size() - 1, std::string::npos, "-" + id) == 0)
        cgroup = lab.task_parent() + "/" + name;
    REQUIRE_FALSE(cgroup.empty());
    std::atomic<bool> done{false};
    std::chrono::steady_clock::time_point gone{};
    std::thread watch([&] {
      while (!done && std::filesystem::exists(cgroup)) std::this_thread::sleep_for(1ms);
      gone = std::chrono::steady_clock::now();
    });
    RunResult d = rtest::cgspawn_in(state, {"destroy", id, "--state-dir", state, "--grace", "0s"});
    auto returned = std::chrono::steady_clock::now();
    done = true;
    watch.join();
    INFO(all_of(d));
    CHECK(d.exit_code == 0);
    CHECK_FALSE(std::filesystem::exists(cgroup));
    double after = std::chrono::duration<double>(returned - gone).count();
    INFO(id << ": destroy returned " << after << " s after the remote cgroup was gone");
    CHECK(after < 0.3);
  }
  check_nothing_left(lab, state);
}

}  // namespace

TEST_CASE("destroy of a running task: the kill session wakes the task's agent (bash login shell)") {
  check_destroy_wakes_agent(rtest::bash_lab());
}
TEST_CASE("destroy of a running task: the kill session wakes the task's agent (dash, own PID namespace)") {
  check_destroy_wakes_agent(rtest::dash_lab());
}
TEST_CASE("destroy of a running task: the kill session wakes the agent of an installed cgspawn's task") {
  check_destroy_wakes_agent(rtest::cgspawn_lab());
}

TEST_CASE("hang report: taken on the remote by the agent, the task's cgroup frozen") {
  check_remote_hang(rtest::bash_lab());
}
TEST_CASE("hang report: the same for a task of the remote's installed cgspawn") {
  check_remote_hang(rtest::cgspawn_lab());
}

// ssh binds a master's socket as "<control path>.<16 characters>", and sun_path holds 107 bytes:
// a ledger whose control path is longer than that leaves (here 91 bytes, 108 with the suffix)
// puts its masters into a private directory in /tmp instead.
TEST_CASE("a ledger whose path is too long for ssh's control socket: its masters go to a private directory") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  constexpr size_t kControlPath = 91;  // <state>/.ssh-mux/<16 hex>
  size_t name = kControlPath - std::string("/.ssh-mux/").size() - 16 - dir.path().size() - 1;
  std::string state = dir.file(std::string(name, 's'));
  REQUIRE(state.size() + 26 == kControlPath);
  std::string private_dir = "/tmp/cgspawn-ssh-" + std::to_string(::getuid());
  Sleepers sleepers(state);
  sleepers.start(lab, "long");
  CHECK_FALSE(cgtest::exists(state + "/.ssh-mux"));
  std::vector<std::string> sockets = control_sockets_in(private_dir);
  REQUIRE(sockets.size() == 1);
  RunResult d = rtest::cgspawn_in(state, {"destroy", "long", "--state-dir", state, "--grace", "0s"});
  INFO(all_of(d));
  CHECK(d.exit_code == 0);
  CHECK(rtest::wait_until([&] { return rtest::local_ssh_processes(sockets[0]).empty(); }, 5s));
  CHECK_FALSE(cgtest::exists(sockets[0]));
  check_nothing_left(lab, state);
}
