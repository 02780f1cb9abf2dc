// SPDX-License-Identifier: MIT
// The podman backend against real podman (the offline lab of tests/podman/lab-up.sh): every
// check of "gone" is made here on its own (podman, cgroup2, v1 dirs, /proc), never taken
// from cgspawn's word.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cgspawn/cgspawn.hpp"
#include "cli.hpp"
#include "freezer.hpp"
#include "host.hpp"
#include "ledger_faults.hpp"
#include "podman_support.hpp"

using namespace cgtest;
using namespace podtest;
using nlohmann::json;

namespace {

std::vector<std::string> run_args(const PodParent& parent, const std::string& id,
                                  std::vector<std::string> extra, std::vector<std::string> argv) {
  std::vector<std::string> a = {"run",      "--backend",   "podman", "--image", lab("CGSPAWN_PODMAN_IMAGE"),
                                "--parent", parent.path(), "--id",   id};
  a.insert(a.end(), extra.begin(), extra.end());
  a.push_back("--");
  a.insert(a.end(), argv.begin(), argv.end());
  return a;
}

std::vector<std::string> cli(std::vector<std::string> args) {
  args.insert(args.begin(), cgspawn_bin());
  return args;
}

json rows_of(const std::string& result_file) {
  auto text = read_text(result_file);
  REQUIRE_MESSAGE(text, "no result file " << result_file);
  return json::parse(*text).at("cleanup").at("resources");
}

const json* row(const json& rows, const std::string& kind) {
  for (const auto& r : rows)
    if (r.at("kind") == kind) return &r;
  return nullptr;
}

// The container's processes, once /bin/workload N has started them all (N + 3).
std::vector<pid_t> wait_for_workload(const PodParent& parent, const std::string& id, size_t n) {
  std::vector<pid_t> pids;
  bool ready = eventually([&] { return (pids = pids_below(parent.task(id))).size() >= n + 3; }, 30s);
  REQUIRE_MESSAGE(ready, "workload in " << parent.task(id) << " has " << pids.size() << " processes");
  return pids;
}

int conmon_of(const std::string& name) {
  Shell s = sh("podman inspect --format '{{.State.ConmonPid}}' " + name);
  return s.rc == 0 ? std::atoi(s.out.c_str()) : 0;
}

// Nothing of the task is left: processes, container, cgroup2 node, v1 dirs, conmon.
void check_all_gone(const PodParent& parent, const std::string& id, const std::vector<ProcessId>& procs,
                    const ProcessId& conmon) {
  CHECK(still_alive(procs, 5s).empty());
  CHECK_FALSE(container_exists("cgspawn-" + id));
  CHECK_FALSE(exists(parent.task(id)));
  for (const auto& d : parent.dirs_left())
    CHECK_MESSAGE(!exists(d + "/cgspawn-" + id), d << "/cgspawn-" << id << " left");
  CHECK(still_alive({conmon}, 5s).empty());
}

// A started task, destroyed when the test ends however it ends: a check that fails before the
// test's own destroy must not leave the task (its container, its output directory) behind.
struct DestroyedAtEnd {
  std::string id;
  std::vector<std::string> env;
  ~DestroyedAtEnd() { Child(cli({"destroy", id, "--grace", "0s"}), env).wait(60s); }  // gone: it says so
};

// `cgspawn start --backend podman` of ARGV in the lab's image, under a parent and in a ledger of
// its own, destroyed when the test ends (also when the start's check fails).
struct StartedTask {
  PodParent parent;
  TempDir state;
  std::string id;
  std::vector<std::string> env;
  DestroyedAtEnd guard;
  StartedTask(const std::string& stem, const std::vector<std::string>& argv)
      : id(unique_id(stem)), env({"CGSPAWN_STATE_DIR=" + state.path()}), guard{id, env} {
    std::vector<std::string> args = {
        "start",    "--backend",   "podman", "--image", lab("CGSPAWN_PODMAN_IMAGE"),
        "--parent", parent.path(), "--id",   id,        "--"};
    args.insert(args.end(), argv.begin(), argv.end());
    RunResult s = Child(cli(args), env).wait(60s);
    REQUIRE_MESSAGE(s.exit_code == 0, s.err);
  }
};

// The command lines of a process's children that are podman (of all its threads): what cgspawn
// keeps running beside a container. (conmon, which podman double-forks, is a child too: the
// supervisor is a subreaper.)
std::vector<std::string> podman_children_of(pid_t pid) {
  std::vector<std::string> out;
  std::string proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  for (const auto& thread : std::filesystem::directory_iterator(proc + "/task", ec)) {
    std::istringstream in(read_text(thread.path().string() + "/children").value_or(""));
    for (pid_t child; in >> child;) {
      std::string cmd = read_text("/proc/" + std::to_string(child) + "/cmdline").value_or("");
      std::string argv0 = cmd.substr(0, cmd.find('\0'));
      std::replace(cmd.begin(), cmd.end(), '\0', ' ');
      if (argv0.size() >= 6 && argv0.compare(argv0.size() - 6, 6, "podman") == 0) out.push_back(cmd);
    }
  }
  return out;
}

// How many inotify instances a process holds (its descriptors that are one).
long inotify_instances_of(pid_t pid) {
  auto targets = fd_targets(pid);
  return std::count(targets.begin(), targets.end(), "anon_inode:inotify");
}

}  // namespace

TEST_CASE("a messy container (daemon, TERM-ignorer, 100 sleepers) is destroyed and verified gone") {
  PodParent parent;
  TempDir tmp;
  std::string id = unique_id("messy");
  Child run(cli(run_args(parent, id, {"--timeout", "20s", "--grace", "1s", "--result", tmp.file("r.json")},
                         {"/bin/workload", "100"})));
  auto pids = wait_for_workload(parent, id, 100);
  auto procs = identify(pids);
  int conmon = conmon_of("cgspawn-" + id);
  REQUIRE(conmon > 0);
  ProcessId conmon_id = identify({conmon})[0];
  run.signal(SIGTERM);  // destroy now, as a runner does on a hung test
  RunResult r = run.wait(60s);
  INFO(r.err);
  json rows = rows_of(tmp.file("r.json"));
  for (const char* kind : {"container", "conmon", "cgroup"}) {
    const json* rw = row(rows, kind);
    REQUIRE_MESSAGE(rw, "no " << kind << " row");
    CHECK_MESSAGE((*rw)["outcome"] == "destroyed", kind << ": " << rw->dump());
  }
  check_all_gone(parent, id, procs, conmon_id);
  CHECK(parent.dirs_left().size() <= 10);  // only the test's own parent dirs: the task's are gone
}

TEST_CASE("exit code, output passed through, --rootfs DIR is never written") {
  PodParent parent;
  std::string rootfs = lab("CGSPAWN_PODMAN_ROOTFS");
  std::string id = unique_id("rootfs");
  RunResult r = run_cgspawn({"run", "--backend", "podman", "--rootfs", rootfs, "--parent", parent.path(),
                             "--id", id, "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("out") != std::string::npos);
  CHECK(r.err.find("err") != std::string::npos);
  CHECK_FALSE(exists(rootfs + "/etc/hostname"));
  CHECK_FALSE(container_exists("cgspawn-" + id));
  CHECK_FALSE(exists(parent.task(id)));
}

TEST_CASE("--keep-container: stopped and kept, said so, its log podman's own") {
  PodParent parent;
  TempDir tmp;
  std::string id = unique_id("keep");
  struct Kept {  // removed however the test ends
    std::string name;
    ~Kept() { sh("podman rm -f -t 0 " + name + " >/dev/null 2>&1"); }
  } kept{"cgspawn-" + id};
  RunResult r = run_cgspawn(run_args(parent, id, {"--keep-container", "--result", tmp.file("r.json")},
                                     {"/bin/sh", "-c", "echo kept-out; echo kept-err >&2"}));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "kept-out\n");  // through `podman logs -f`: a kept container's log must outlive cgspawn
  CHECK(r.err.find("kept-err\n") != std::string::npos);
  CHECK(sh("podman logs cgspawn-" + id).out.find("kept-out") != std::string::npos);
  json rows = rows_of(tmp.file("r.json"));
  const json* c = row(rows, "container");
  REQUIRE(c);
  CHECK((*c)["outcome"] == "kept");
  CHECK((*c)["detail"].get<std::string>().find("kept by request") != std::string::npos);
  CHECK(container_exists("cgspawn-" + id));
  CHECK(sh("podman inspect --format '{{.State.Status}}' cgspawn-" + id).out.find("exited") !=
        std::string::npos);
}

// conmon writes the container's output into a file of cgspawn's that has no name (given to
// podman as /proc/PID/fd/N), which cgspawn follows: every byte, each stream to its own, and
// nothing of the file left anywhere once the task is gone.
// The lab's configuration caps a container's log (log_size_max), which conmon enforces by
// rotating the file by its name: cgspawn's, having none, must not be capped.
TEST_CASE("output byte for byte: partial lines, a line longer than conmon's buffer, no final newline") {
  PodParent parent;
  TempDir tmp;
  write_text(tmp.file("containers.conf"),
             std::regex_replace(*read_text(lab("CONTAINERS_CONF")), std::regex("\\[containers\\]"),
                                "[containers]\nlog_size_max = 10000"));
  std::string id = unique_id("bytes");
  std::string script =
      "echo out1; echo err1 >&2; printf partial; head -c 20000 /dev/zero | tr '\\0' a; echo;"
      "printf 'err2 no newline' >&2; printf 'tail\\tno newline'";
  RunResult r = Child(cli(run_args(parent, id, {}, {"/bin/sh", "-c", script})),
                      {"CONTAINERS_CONF=" + tmp.file("containers.conf")})
                    .wait(60s);
  INFO(r.err.substr(0, 400));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "out1\npartial" + std::string(20000, 'a') + "\ntail\tno newline");
  CHECK(r.err.find("err1\nerr2 no newline") != std::string::npos);
  CHECK(sh("ls /var/tmp | grep -c cgspawn-container-log").out == "0\n");
  CHECK_FALSE(container_exists("cgspawn-" + id));
  CHECK_FALSE(exists(parent.task(id)));
}

TEST_CASE("start, then destroy by id") {
  StartedTask task("start", {"/bin/workload", "3"});
  const auto& [parent, state, id, env, guard] = task;
  auto procs = identify(wait_for_workload(parent, id, 3));
  ProcessId conmon = identify({conmon_of("cgspawn-" + id)})[0];
  // The task's stdout, where a started task's output goes by default.
  std::string out_file = cgspawn::Ledger(state.path()).output_dir(id) + "/stdout";
  CHECK(eventually([&] { return read_text(out_file).value_or("").find("ready") != std::string::npos; }, 10s));
  // Beside the running container, no podman process: its output is read from the file conmon
  // writes (not by `podman logs -f`), its end is watched in conmon's exit directory and on
  // conmon's pidfd (not by a `podman wait` that polls podman's state).
  auto record = cgspawn::Ledger(state.path()).read(id);
  REQUIRE(record);
  std::vector<std::string> helpers = podman_children_of(record->owner.pid);
  INFO("the supervisor's podman children: " << json(helpers).dump());
  CHECK(helpers.empty());
  // One inotify instance for the log and the exit directory: root has 128 for the whole host.
  CHECK(inotify_instances_of(record->owner.pid) == 1);
  Child destroy(cli({"destroy", id, "--grace", "1s", "--json"}), env);
  RunResult d = destroy.wait(60s);
  INFO(d.out << d.err);
  CHECK(d.exit_code == 0);
  check_all_gone(parent, id, procs, conmon);
}

// A task's end is seen in conmon's exit directory, where every container's end is written: the
// ends of others (a task of ours, a container of podman's own) must not end it.
TEST_CASE("other containers' ends leave a running task running") {
  StartedTask task("others", {"/bin/sleep", "600"});
  const auto& [parent, state, id, env, guard] = task;
  std::string other = unique_id("other");
  RunResult r = Child(cli(run_args(parent, other, {}, {"/bin/sh", "-c", "exit 5"})), env).wait(60s);
  CHECK_MESSAGE(r.exit_code == 5, r.err);
  Shell plain =
      sh("podman run --rm --pull=never --network=none --name cgspawn-" + unique_id("plain") +
         " --cgroup-parent=" + parent.rel() + "/plain " + lab("CGSPAWN_PODMAN_IMAGE") + " /bin/true 2>&1");
  CHECK_MESSAGE(plain.rc == 0, plain.out);
  RunResult status = Child(cli({"status", id, "--json"}), env).wait(30s);
  INFO(status.out << status.err);
  CHECK(status.out.find("\"running\"") != std::string::npos);
  CHECK(container_exists("cgspawn-" + id));
  RunResult d = Child(cli({"destroy", id, "--grace", "0s"}), env).wait(60s);
  INFO(d.out << d.err);
  CHECK(d.exit_code == 0);
  CHECK_FALSE(container_exists("cgspawn-" + id));
}

// The supervisor opens the task's output files, starts the container, and closes its own
// descriptors of them: what the container writes later must still reach the files, whole.
TEST_CASE("start: output written after start has returned reaches the task's files") {
  StartedTask task(
      "late",
      {"/bin/sh", "-c", "sleep 2; echo late-out; echo late-err >&2; head -c 100000 /dev/zero | tr '\\0' b"});
  const auto& [parent, state, id, env, guard] = task;
  Child wait(cli({"wait", id}), env);
  RunResult w = wait.wait(60s);
  INFO(w.out << w.err);
  CHECK(w.exit_code == 0);
  std::string dir = cgspawn::Ledger(state.path()).output_dir(id);
  CHECK(read_text(dir + "/stdout").value_or("") == "late-out\n" + std::string(100000, 'b'));
  CHECK(read_text(dir + "/stderr").value_or("") == "late-err\n");
}

TEST_CASE("limits reach the container's cgroups (v1 on this hybrid host); --chdir is its working directory") {
  PodParent parent;
  TempDir state;
  std::string id = unique_id("limits");
  std::vector<std::string> env = {"CGSPAWN_STATE_DIR=" + state.path()};
  Child start(cli({"start",
                   "--backend",
                   "podman",
                   "--image",
                   lab("CGSPAWN_PODMAN_IMAGE"),
                   "--parent",
                   parent.path(),
                   "--id",
                   id,
                   "--memory-max",
                   "64M",
                   "--pids-max",
                   "50",
                   "--cpu-max",
                   "50",
                   "--chdir",
                   "/tmp",
                   "--",
                   "/bin/sh",
                   "-c",
                   "pwd; exec sleep 1000"}),
              env);
  RunResult s = start.wait(60s);
  DestroyedAtEnd guard{id, env};
  REQUIRE_MESSAGE(s.exit_code == 0, s.err);
  std::string cid = sh("podman inspect --format '{{.Id}}' cgspawn-" + id).out;
  REQUIRE(cid.size() > 1);
  cid.pop_back();
  // The container's own cgroup: in each v1 hierarchy that carries a limit (a hybrid host, as
  // podman enforces limits there), else in cgroup2.
  auto limit = [&](const std::string& controller, const std::string& v1_file, const std::string& v2_file) {
    std::string v1 = v1_mount(controller);
    std::string dir =
        (v1.empty() ? cgroup2_mount() : v1) + parent.rel() + "/cgspawn-" + id + "/libpod-" + cid;
    return read_text(dir + "/" + (v1.empty() ? v2_file : v1_file)).value_or("(missing)");
  };
  bool hybrid = !v1_mount("memory").empty();
  CHECK(limit("memory", "memory.limit_in_bytes", "memory.max") == "67108864\n");
  CHECK(limit("pids", "pids.max", "pids.max") == "50\n");
  CHECK(limit("cpu", "cpu.cfs_quota_us", "cpu.max") == (hybrid ? "50000\n" : "50000 100000\n"));
  std::string out_file = cgspawn::Ledger(state.path()).output_dir(id) + "/stdout";
  CHECK(eventually([&] { return read_text(out_file).value_or("") == "/tmp\n"; }, 10s));
  Child destroy(cli({"destroy", id, "--grace", "0s"}), env);
  RunResult d = destroy.wait(60s);
  INFO(d.out << d.err);
  CHECK(d.exit_code == 0);
  CHECK_FALSE(container_exists("cgspawn-" + id));
}

TEST_CASE("a failing runtime: the report names the container and podman's error; cgroup.kill empties it") {
  PodParent parent;
  TempDir tmp;
  std::string labdir = lab("CGSPAWN_PODMAN_LAB");
  // The lab's config with runc replaced by the failure-injecting wrapper (also named runc).
  std::string conf = *read_text(lab("CONTAINERS_CONF"));
  conf += "\n[engine.runtimes]\nrunc = [\"" + lab("CGSPAWN_PODMAN_FAIL_RUNTIME") + "\"]\n";
  write_text(tmp.file("containers.conf"), conf);
  std::string id = unique_id("rtfail");
  Child run(cli(run_args(parent, id, {"--timeout", "30s", "--grace", "0s", "--result", tmp.file("r.json")},
                         {"/bin/workload", "3"})),
            {"CONTAINERS_CONF=" + tmp.file("containers.conf")});
  auto procs = identify(wait_for_workload(parent, id, 3));
  std::string cid = sh("podman inspect --format '{{.Id}}' cgspawn-" + id).out;
  cid = cid.substr(0, cid.find('\n'));
  // Should a check below fail, the lab is not left with the container nor the failing runtime.
  struct Cleanup {
    std::string labdir, cid;
    ~Cleanup() {
      std::filesystem::remove(labdir + "/runtime/FAIL_kill");
      std::filesystem::remove(labdir + "/runtime/FAIL_delete");
      sh("podman rm -f -t 0 " + cid + " >/dev/null 2>&1; runc delete --force " + cid +
         " >/dev/null 2>&1; rm -f /run/libpod/exits/" + cid);
    }
  } cleanup{labdir, cid};
  write_text(labdir + "/runtime/FAIL_kill", "");
  write_text(labdir + "/runtime/FAIL_delete", "");
  run.signal(SIGTERM);
  RunResult r = run.wait(90s);
  INFO(r.err);
  CHECK_FALSE(r.hung);
  CHECK(r.exit_code == 128 + SIGTERM);  // run got SIGTERM and destroyed its task, completely
  CHECK(r.err.find("cleanup complete") != std::string::npos);
  json rows = rows_of(tmp.file("r.json"));
  const json* c = row(rows, "container");
  REQUIRE(c);
  std::string detail = (*c)["detail"];
  INFO(detail);
  // podman could not stop it; cgspawn emptied its cgroup and then had podman remove it.
  CHECK((*c)["outcome"] == "destroyed");
  CHECK(detail.find("podman failed to destroy container " + cid) != std::string::npos);
  CHECK(detail.find("simulated runtime failure") != std::string::npos);
  CHECK(detail.find("cgroup.kill") != std::string::npos);
  CHECK(detail.find("container record removed: yes") != std::string::npos);
  for (const auto& other : rows) CHECK_MESSAGE(other["outcome"] == "destroyed", other.dump());
  CHECK(still_alive(procs, 5s).empty());
  CHECK_FALSE(exists(parent.task(id)));
  CHECK_FALSE(container_exists(cid));  // podman's own word, not cgspawn's
}

TEST_CASE("an unkillable process: failed with the survivor listed; reap completes after the thaw") {
  PodParent parent;
  TempDir state, tmp;
  V1Freezer freezer;
  REQUIRE_MESSAGE(freezer.available(), "this host has no cgroup v1 freezer to make a process unkillable");
  std::string id = unique_id("stuck");
  std::vector<std::string> env = {"CGSPAWN_STATE_DIR=" + state.path()};
  Child run(cli(run_args(parent, id, {"--timeout", "60s", "--grace", "1s", "--result", tmp.file("r.json")},
                         {"/bin/workload", "2"})),
            env);
  std::vector<pid_t> pids;
  pid_t stuck = 0;
  // The TERM-ignoring sleeper is the workload's last child: wait for it, not for a count.
  bool found = eventually(
      [&] {
        pids = pids_below(parent.task(id));
        for (pid_t p : pids)
          if (read_text("/proc/" + std::to_string(p) + "/cmdline").value_or("") == std::string("sleep\0"
                                                                                               "10002\0",
                                                                                               12))
            stuck = p;
        return stuck > 0;
      },
      30s);
  REQUIRE_MESSAGE(found, "no 'sleep 10002' in " << parent.task(id));
  pids = wait_for_workload(parent, id, 2);
  freezer.add(stuck);
  freezer.freeze();
  run.signal(SIGTERM);
  RunResult r = run.wait(120s);
  CHECK(r.exit_code == 125);  // the cleanup is incomplete
  json rows = rows_of(tmp.file("r.json"));
  const json* cg = row(rows, "cgroup");
  REQUIRE(cg);
  CHECK((*cg)["outcome"] == "failed");
  bool listed = false;
  for (const auto& s : (*cg)["survivors"]) {
    if (s.at("pid") != stuck) continue;
    listed = true;
    CHECK(s.at("state") == "D");  // named with the wait that holds it
    CHECK_FALSE(s.at("wchan").get<std::string>().empty());
  }
  CHECK_MESSAGE(listed, cg->dump());
  const json* container = row(rows, "container");
  REQUIRE(container);
  INFO(container->dump());
  // Never a second `rm -f` while a process survives: podman would forget a container that runs.
  CHECK(container_exists("cgspawn-" + id));
  freezer.thaw();
  Child reap(cli({"reap", "--grace", "0s", "--json"}), env);
  RunResult rp = reap.wait(120s);
  INFO(rp.out << rp.err);
  CHECK(rp.exit_code == 0);
  CHECK(still_alive(identify(pids), 5s).empty());
  CHECK_FALSE(container_exists("cgspawn-" + id));
  CHECK_FALSE(exists(parent.task(id)));
}

TEST_CASE("hang report: a timed-out container blocked in read() on a pipe, its cgroup frozen") {
  PodParent parent;
  TempDir tmp;
  std::string id = unique_id("hang");
  RunResult r =
      run_cgspawn(run_args(parent, id, {"--timeout", "3s", "--grace", "1s", "--result", tmp.file("r.json")},
                           {"/bin/sh", "-c", "sleep 1000 | cat"}));
  INFO(r.err);
  CHECK(r.exit_code == 124);
  json j = json::parse(read_text(tmp.file("r.json")).value_or("{}"));
  REQUIRE(j.contains("hang"));
  CHECK(j.at("hang").at("frozen") == true);
  bool cat = false;
  for (const auto& p : j.at("hang").at("processes")) {
    if (p.at("comm") != "cat") continue;
    cat = true;
    CHECK(p.at("state") == "S");
    CHECK(p.at("threads")[0].at("wchan").get<std::string>().find("pipe_read") != std::string::npos);
  }
  CHECK_MESSAGE(cat, j.at("hang").dump());
  CHECK(r.err.find("what it was doing (frozen,") != std::string::npos);
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK_FALSE(container_exists("cgspawn-" + id));
  CHECK_FALSE(exists(parent.task(id)));
}

TEST_CASE(
    "conmon killed while the container runs: the task ends with no exit status, destroyed and verified") {
  PodParent parent;
  TempDir tmp;
  std::string id = unique_id("conmon");
  Child run(
      cli(run_args(parent, id, {"--grace", "1s", "--result", tmp.file("r.json")}, {"/bin/workload", "3"})));
  auto procs = identify(wait_for_workload(parent, id, 3));
  ProcessId conmon = identify({conmon_of("cgspawn-" + id)})[0];
  std::string container = sh("podman inspect --format '{{.Id}}' cgspawn-" + id).out;
  container = container.substr(0, container.find('\n'));
  REQUIRE_FALSE(container.empty());
  // podman, which cannot stop a container without its conmon, forgets it but leaves runc's
  // state of it (docs/backends.md): the test removes that, whatever happens below.
  struct RuncState {
    std::string id;
    ~RuncState() { sh("runc delete --force " + id + " >/dev/null 2>&1"); }
  } runc_state{container};
  // conmon watches the container and keeps its exit code for podman: without it podman can no
  // longer say how the container ends, so cgspawn ends the task at once instead of waiting.
  REQUIRE(::kill(conmon.pid, SIGKILL) == 0);
  RunResult r = run.wait(60s);
  INFO(r.err);
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("its conmon ended while the container ran") != std::string::npos);
  CHECK(r.err.find("exited with no exit status") != std::string::npos);
  json rows = rows_of(tmp.file("r.json"));
  for (const char* kind : {"container", "cgroup"}) {
    const json* rw = row(rows, kind);
    REQUIRE_MESSAGE(rw, "no " << kind << " row");
    CHECK_MESSAGE((*rw)["outcome"] == "destroyed", kind << ": " << rw->dump());
  }
  check_all_gone(parent, id, procs, conmon);
}

TEST_CASE("SIGKILL of cgspawn run mid-task, then reap destroys the container") {
  PodParent parent;
  TempDir state;
  std::string id = unique_id("crash");
  std::vector<std::string> env = {"CGSPAWN_STATE_DIR=" + state.path()};
  Child run(cli(run_args(parent, id, {}, {"/bin/workload", "3"})), env);
  auto procs = identify(wait_for_workload(parent, id, 3));
  ProcessId conmon = identify({conmon_of("cgspawn-" + id)})[0];
  run.signal(SIGKILL);
  run.wait(10s);
  CHECK(container_exists("cgspawn-" + id));  // nothing destroyed it yet
  Child reap(cli({"reap", "--grace", "0s"}), env);
  RunResult rp = reap.wait(120s);
  INFO(rp.out << rp.err);
  CHECK(rp.exit_code == 0);
  check_all_gone(parent, id, procs, conmon);
}

TEST_CASE(
    "missing image, bad image name, podman not in PATH, neither or both of --image and --rootfs: exit 125, "
    "nothing left") {
  PodParent parent;
  TempDir state;
  struct Case {
    std::vector<std::string> source;  // --image IMAGE, --rootfs DIR, both or neither
    std::string path, expect;
  };
  const std::string image = lab("CGSPAWN_PODMAN_IMAGE");
  const Case cases[] = {
      {{"--image", "localhost/cgspawn-no-such-image:latest"}, "", "image not known"},
      {{"--image", "Bad Image Name!!"}, "", "podman could not start container"},
      {{"--image", image}, "PATH=/nonexistent", "podman is not installed or not in PATH"},
      {{}, "", "the podman backend needs exactly one of --image IMAGE or --rootfs DIR"},
      {{"--image", image, "--rootfs", state.path()},
       "",
       "needs exactly one of --image IMAGE or --rootfs DIR"},
  };
  for (const auto& c : cases) {
    std::string id = unique_id("bad");
    std::vector<std::string> env = {"CGSPAWN_STATE_DIR=" + state.path()};
    if (!c.path.empty()) env.push_back(c.path);
    std::vector<std::string> args = {"run", "--backend", "podman"};
    args.insert(args.end(), c.source.begin(), c.source.end());
    args.insert(args.end(), {"--parent", parent.path(), "--id", id, "--", "/bin/true"});
    Child run(cli(args), env);
    RunResult r = run.wait(60s);
    INFO((c.source.empty() ? "no image or rootfs" : c.source.back()) << ": " << r.err);
    CHECK(r.exit_code == 125);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK_FALSE(container_exists("cgspawn-" + id));
    CHECK_FALSE(exists(parent.task(id)));
    CHECK_FALSE(exists(state.path() + "/" + id));
  }
}

TEST_CASE(
    "a ledger update that fails during spawn (after the cgroup, after the container started): nothing left") {
  PodParent parent;
  TempDir state_parent;
  auto ledger = std::make_shared<const cgspawn::Ledger>(state_parent.file("ledger"));
  cgspawn::BackendOptions options;
  options.backend = "podman";
  options.image = lab("CGSPAWN_PODMAN_IMAGE");
  options.parent = parent.path();
  options.ledger = ledger;
  auto spawner = cgspawn::make_spawner(options);
  // Update 1 follows the task cgroup; update 2 follows `podman run` (the container runs then).
  for (int nth : {1, 2}) {
    CAPTURE(nth);
    std::string id = unique_id("ledgerfault");
    cgspawn::TaskSpec spec;
    spec.id = id;
    spec.argv = {"/bin/sleep", "4242.5"};
    {
      FailingRecordUpdates faults(nth);
      CHECK_THROWS_AS(spawner->spawn(spec), cgspawn::Error);
      CHECK(faults.failed() == 1);
    }
    CHECK(processes_running("sleep 4242.5").empty());
    CHECK_FALSE(container_exists("cgspawn-" + id));
    CHECK_FALSE(exists(parent.task(id)));
    CHECK(ledger->list().tasks.empty());
    CHECK_FALSE(exists(ledger->dir() + "/" + id));
  }
}

namespace {

// What cgspawn (this build's) says and does inside a container that sees the host's cgroup2
// mount through `cgroup_volume`, as `user`: a CI job in an unprivileged container. The
// container's root is an overlay of the host's (so the build's libraries resolve), the build
// directory is mounted read-only, and the answers come back through `out`.
struct InContainer {
  json backends;
  std::string run_err, list;
  int backends_rc = -1, run_rc = -1;
};

InContainer cgspawn_in_container(const PodParent& parent, const TempDir& out,
                                 const std::string& cgroup_volume, const std::string& user) {
  std::string build = std::filesystem::path(cgspawn_bin()).parent_path().parent_path();
  std::string name = "cgspawn-" + unique_id("incontainer");
  // The build dir is mounted at a path of its own: its host path may lie below a directory the
  // user cannot enter (a clone in `mktemp -d`).
  std::string bin = "/cgspawn-build/" + std::filesystem::relative(cgspawn_bin(), build).string();
  std::string inner = parent.path() + "/inner";
  write_text(out.file("script"), "export CGSPAWN_STATE_DIR=/tmp/cgspawn-state; cd /out\n'" + bin +
                                     "' backends --json > backends.json; echo $? > backends.rc\n'" + bin +
                                     "' run --parent '" + inner +
                                     "' -- /bin/true 2> run.err; echo $? > run.rc\n'" + bin +
                                     "' list --json > list.json\n");
  Shell s = sh("podman run --rm --name " + name + " --user " + user + " --cgroup-parent=" + parent.rel() +
               " --cgroupns=host -v " + cgroup_volume + " -v " + build + ":/cgspawn-build:ro -v " +
               out.path() + ":/out --rootfs /:O /bin/sh /out/script");
  REQUIRE_MESSAGE(s.rc == 0, "podman run failed (" << s.rc << "): " << s.out);
  InContainer r;
  r.backends_rc = std::stoi(read_text(out.file("backends.rc")).value_or("-1"));
  r.backends = json::parse(read_text(out.file("backends.json")).value_or("null"));
  r.run_rc = std::stoi(read_text(out.file("run.rc")).value_or("-1"));
  r.run_err = read_text(out.file("run.err")).value_or("");
  r.list = read_text(out.file("list.json")).value_or("");
  CHECK_FALSE(exists(inner));  // nothing made on the host
  return r;
}

void check_refused_in_container(const InContainer& r, const std::string& why) {
  INFO("backends: " << r.backends.dump() << "\nrun: " << r.run_err << "\nlist: " << r.list);
  CHECK(r.backends_rc == 0);
  const json& process = r.backends.at("backends").at(0);
  REQUIRE(process.at("backend") == "process");
  for (const char* cap : {"usable", "kill_all", "verify", "survives_caller_crash"}) {
    CHECK(process.at(cap).at("available") == false);
    CHECK(process.at(cap).at("reason").get<std::string>().find(why) != std::string::npos);
  }
  CHECK(r.run_rc == 125);
  CHECK(std::count(r.run_err.begin(), r.run_err.end(), '\n') == 1);  // one line, naming the cause
  CHECK(r.run_err.find(why) != std::string::npos);
  CHECK(json::parse(r.list).at("tasks").empty());  // no ledger entry
}

}  // namespace

TEST_CASE("in a container whose cgroup2 is read-only: backends says so, run refuses (125), nothing is made") {
  PodParent parent;
  TempDir out;
  std::string cg2 = cgroup2_mount();
  check_refused_in_container(cgspawn_in_container(parent, out, cg2 + ":" + cg2 + ":ro", "0:0"), "read-only");
}

TEST_CASE("in a container as an unprivileged user with no delegated cgroup: backends says why, run refuses") {
  PodParent parent;
  TempDir out;
  ::chmod(out.path().c_str(), 0777);  // the container's user writes its answers there
  std::string cg2 = cgroup2_mount();
  check_refused_in_container(cgspawn_in_container(parent, out, cg2 + ":" + cg2, "65534:65534"),
                             "Permission denied");
}

TEST_CASE(
    "storage: the scratch directory is at the same path inside, removed after the container; "
    "--private-tmp gives it tmpfs") {
  PodParent parent;
  TempDir tmp;
  std::string root = tmp.file("scratch");
  std::string body =
      "echo in-container > \"$CGSPAWN_SCRATCH/f\"; echo \"$TMPDIR\"; grep -c ' /tmp tmpfs\\| /var/tmp tmpfs' "
      "/proc/mounts";
  std::string kept_id = unique_id("keepscr");
  RunResult kept = run_cgspawn(run_args(parent, kept_id,
                                        {"--scratch", "--scratch-root", root, "--keep-scratch",
                                         "--private-tmp", "--private-ipc", "--result", tmp.file("kept.json")},
                                        {"/bin/sh", "-c", body}));
  INFO(kept.err);
  CHECK(kept.exit_code == 0);
  CHECK(kept.out == root + "/" + kept_id + "\n2\n");
  CHECK(read_text(root + "/" + kept_id + "/f") == "in-container\n");  // the host's directory, used inside
  json kept_rows = rows_of(tmp.file("kept.json"));
  const json* k = row(kept_rows, "directory");
  REQUIRE(k);
  CHECK((*k)["outcome"] == "kept");
  CHECK_FALSE(container_exists("cgspawn-" + kept_id));

  std::string id = unique_id("scratch");
  RunResult r = run_cgspawn(
      run_args(parent, id, {"--scratch", "--scratch-root", root, "--result", tmp.file("r.json")},
               {"/bin/sh", "-c", "echo x > \"$CGSPAWN_SCRATCH/f\" && grep -c ' /tmp tmpfs' /proc/mounts"}));
  INFO(r.err);
  CHECK(r.exit_code == 1);  // grep -c found no tmpfs on /tmp: no --private-tmp
  CHECK(r.out == "0\n");
  json rows = rows_of(tmp.file("r.json"));
  const json* d = row(rows, "directory");
  REQUIRE(d);
  CHECK((*d)["outcome"] == "destroyed");
  CHECK((*d)["id"] == root + "/" + id);
  CHECK_FALSE(exists(root + "/" + id));
  CHECK(rows.back()["kind"] == "directory");  // after the container, its conmon and its cgroup
}
