// SPDX-License-Identifier: MIT
// `cgspawn run` and `cgspawn backends` as whole processes: exit statuses, one-line errors for
// every bad option (exit 125, nothing left behind), the --result JSON, backends --json.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "host.hpp"

using namespace cgtest;
using nlohmann::json;

namespace {

std::vector<std::string> run_args(const TestParent& parent, std::vector<std::string> rest) {
  std::vector<std::string> args = {"run", "-q", "--parent", parent.path()};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

// Every field of the Result schema (docs/cli.md), with its type.
void check_result_schema(const json& j) {
  REQUIRE(j.is_object());
  CHECK(j.at("schema") == 1);
  CHECK(j.at("id").is_string());
  CHECK(j.at("backend") == "process");
  REQUIRE(j.at("argv").is_array());
  for (const auto& a : j.at("argv")) CHECK(a.is_string());
  REQUIRE(j.at("labels").is_object());
  for (const auto& [k, v] : j.at("labels").items()) CHECK(v.is_string());
  const json& exit = j.at("exit");
  CHECK((exit.at("code").is_number_integer() || exit.at("code").is_null()));
  CHECK((exit.at("signal").is_number_integer() || exit.at("signal").is_null()));
  CHECK(exit.at("code").is_null() != exit.at("signal").is_null());
  std::string reason = exit.at("reason");
  CHECK((reason == "exited" || reason == "signaled" || reason == "timed-out" || reason == "destroyed"));
  const json& usage = j.at("usage");
  CHECK(usage.at("wall_seconds").is_number());
  CHECK(usage.at("wall_seconds") >= 0);
  CHECK(usage.at("cpu_user_seconds").is_number());
  CHECK(usage.at("cpu_system_seconds").is_number());
  CHECK((usage.at("memory_peak_bytes").is_number_integer() || usage.at("memory_peak_bytes").is_null()));
  CHECK((usage.at("oom_kills").is_number_integer() || usage.at("oom_kills").is_null()));
  const json& cleanup = j.at("cleanup");
  CHECK(cleanup.at("complete").is_boolean());
  REQUIRE(cleanup.at("resources").is_array());
  for (const auto& r : cleanup.at("resources")) {
    CHECK(r.at("kind").is_string());
    CHECK(r.at("id").is_string());
    std::string outcome = r.at("outcome");
    CHECK((outcome == "destroyed" || outcome == "already-gone" || outcome == "kept" ||
           outcome == "not-guaranteed" || outcome == "failed"));
    CHECK(r.at("detail").is_string());
    CHECK(r.at("seconds").is_number());
    for (const auto& p : r.at("killed")) {
      CHECK(p.at("pid").is_number_integer());
      CHECK(p.at("comm").is_string());
    }
    for (const auto& p : r.at("survivors")) {
      CHECK(p.at("pid").is_number_integer());
      CHECK(p.at("comm").is_string());
      CHECK(p.at("state").is_string());
    }
  }
}

json read_json(const std::string& path) {
  auto text = read_text(path);
  REQUIRE_MESSAGE(text.has_value(), "no result file " << path);
  return json::parse(*text);
}

}  // namespace

TEST_CASE("exit statuses: the program's own, 128+N, 124, 126, 127") {
  TestParent parent;
  TempDir tmp;
  write_text(tmp.file("plain"), "#!/bin/sh\nexit 0\n", 0644);
  write_text(tmp.file("garbage"),
             "\x7f"
             "ELF?\n",
             0755);
  write_text(tmp.file("no-interp"), "#!/nonexistent/interpreter\n", 0755);
  struct Case {
    std::vector<std::string> argv;
    int status;
  };
  std::vector<Case> cases = {
      {{"/bin/true"}, 0},
      {{"/bin/sh", "-c", "exit 3"}, 3},
      {{"/bin/sh", "-c", "exit 255"}, 255},
      {{"sh", "-c", "kill -USR1 $$"}, 128 + SIGUSR1},
      {{"sh", "-c", "kill -KILL $$"}, 128 + SIGKILL},
      {{"sh", "-c", "kill -SEGV $$"}, 128 + SIGSEGV},
      {{tmp.file("plain")}, 126},
      {{tmp.path()}, 126},
      {{tmp.file("garbage")}, 126},
      {{"/nonexistent/program"}, 127},
      {{"cgspawn-no-such-program"}, 127},
      {{tmp.file("no-interp")}, 127},
  };
  for (const auto& c : cases) {
    CAPTURE(c.argv[0]);
    CAPTURE(c.argv.back());
    std::vector<std::string> rest = {"--"};
    rest.insert(rest.end(), c.argv.begin(), c.argv.end());
    RunResult r = run_cgspawn(run_args(parent, rest));
    CAPTURE(r.err);
    CHECK(r.exit_code == c.status);
    if (c.status == 126 || c.status == 127) {
      CHECK(r.err_lines().size() == 1);  // one line naming the program
      CHECK(r.err.find(c.argv[0]) != std::string::npos);
    }
    CHECK(parent.children().empty());
  }
}

TEST_CASE("exit status 124 when the timeout fires, also when SIGTERM is ignored") {
  TestParent parent;
  SUBCASE("acts on SIGTERM") {
    RunResult r =
        run_cgspawn(run_args(parent, {"--timeout", "300ms", "--grace", "30s", "--", "sleep", "1000"}));
    CHECK(r.exit_code == 124);
    CHECK(r.seconds >= 0.29);
    CHECK(r.seconds < 10);  // not the 30 s grace
  }
  SUBCASE("ignores SIGTERM: killed after the grace") {
    RunResult r = run_cgspawn(run_args(
        parent, {"--timeout", "300ms", "--grace", "500ms", "--", "sh", "-c", "trap '' TERM; sleep 1000"}));
    CHECK(r.exit_code == 124);
    CHECK(r.seconds >= 0.79);
    CHECK(r.seconds < 15);
  }
  CHECK(parent.children().empty());
}

TEST_CASE("a background child left by the program is destroyed and listed as killed") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids"), result = tmp.file("r.json");
  RunResult r = run_cgspawn({"run", "--parent", parent.path(), "--result", result, "--", "sh", "-c",
                             R"(setsid sleep 1000 & echo $! > "$1"; sleep 0.1; exit 5)", "sh", file});
  CHECK(r.exit_code == 5);
  auto pids = read_pids(file);
  REQUIRE(pids.size() == 1);
  CHECK(alive_below(pids, parent.relative()).empty());
  json j = read_json(result);
  CHECK(j["exit"]["code"] == 5);
  CHECK(j["cleanup"]["complete"] == true);
  const json& row = j["cleanup"]["resources"][0];
  CHECK(row["outcome"] == "destroyed");
  REQUIRE(row["killed"].size() == 1);
  CHECK(row["killed"][0]["pid"] == pids[0]);
  CHECK(row["killed"][0]["comm"] == "sleep");
  // ... and the summary on stderr says so.
  CHECK(r.err.find("killed sleep[" + std::to_string(pids[0]) + "]") != std::string::npos);
  CHECK(r.err.find("cleanup complete") != std::string::npos);
  CHECK(parent.children().empty());
}

TEST_CASE("--result FILE: the JSON of issue 2, every field and type") {
  TestParent parent;
  TempDir tmp;
  std::string result = tmp.file("result.json");
  SUBCASE("exited") {
    RunResult r = run_cgspawn(
        run_args(parent, {"--result", result, "--id", "json-1", "--label", "suite=host", "--label", "k=v=w",
                          "--env", "A=1", "--", "sh", "-c", "test \"$A\" = 1 && exit 4"}));
    CHECK(r.exit_code == 4);
    json j = read_json(result);
    check_result_schema(j);
    CHECK(j["id"] == "json-1");
    CHECK(j["argv"] == json({"sh", "-c", "test \"$A\" = 1 && exit 4"}));
    CHECK(j["labels"] == json({{"suite", "host"}, {"k", "v=w"}}));
    CHECK(j["exit"]["code"] == 4);
    CHECK(j["exit"]["signal"].is_null());
    CHECK(j["exit"]["reason"] == "exited");
    CHECK(j["cleanup"]["complete"] == true);
    REQUIRE(j["cleanup"]["resources"].size() == 1);
    CHECK(j["cleanup"]["resources"][0]["kind"] == "cgroup");
    CHECK(j["cleanup"]["resources"][0]["id"] == parent.task_path("json-1"));
    CHECK(j["cleanup"]["resources"][0]["outcome"] == "destroyed");
  }
  SUBCASE("signaled") {
    RunResult r = run_cgspawn(run_args(parent, {"--result", result, "--", "sh", "-c", "kill -TERM $$"}));
    CHECK(r.exit_code == 128 + SIGTERM);
    json j = read_json(result);
    check_result_schema(j);
    CHECK(j["exit"]["code"].is_null());
    CHECK(j["exit"]["signal"] == SIGTERM);
    CHECK(j["exit"]["reason"] == "signaled");
  }
  SUBCASE("timed out, busy") {
    RunResult r = run_cgspawn(run_args(parent, {"--result", result, "--timeout", "700ms", "--grace", "1s",
                                                "--", helper_bin(), "busy", "1000"}));
    CHECK(r.exit_code == 124);
    json j = read_json(result);
    check_result_schema(j);
    CHECK(j["exit"]["reason"] == "timed-out");
    CHECK(j["exit"]["signal"] == SIGTERM);
    CHECK(j["usage"]["wall_seconds"] >= 0.69);
    // Some CPU time, however little two busy cores left it in 700 ms (the exact figure is the
    // library case "a busy task has CPU time").
    CHECK(j["usage"]["cpu_user_seconds"].get<double>() + j["usage"]["cpu_system_seconds"].get<double>() > 0);
    const json& row = j["cleanup"]["resources"][0];
    REQUIRE(row["killed"].size() == 1);
    CHECK(row["killed"][0]["comm"] == "cgspawn-test-he");  // comm is cut to 15 characters
  }
  // No temporary file is left next to it.
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) files.push_back(e.path().filename());
  CHECK(files == std::vector<std::string>{"result.json"});
  CHECK(parent.children().empty());
}

TEST_CASE("every bad option: one stderr line naming it, exit 125, nothing left behind") {
  TestParent parent;
  TempDir tmp;
  std::string marker = tmp.file("ran"), result = tmp.file("result.json");
  struct Case {
    std::vector<std::string> options;  // between "run" and "-- PROGRAM"
    std::string named;                 // what the error line must name
    bool with_program = true;
  };
  std::string p = parent.path();
  std::vector<Case> cases = {
      {{"--bogus"}, "--bogus"},
      {{"-Z"}, "-Z"},
      {{"--timeout", "abc"}, "--timeout"},
      {{"--timeout", "0"}, "--timeout"},
      {{"--timeout", "-1s"}, "--timeout"},
      {{"--timeout", "5x"}, "--timeout"},
      {{"--timeout", ""}, "--timeout"},
      {{"--grace", "soon"}, "--grace"},
      {{"--grace", ""}, "--grace"},
      {{"--memory-max", ""}, "--memory-max"},
      {{"--pids-max", ""}, "--pids-max"},
      {{"--cpu-max", ""}, "--cpu-max"},
      {{"--id", ""}, "--id"},
      {{"--chdir", ""}, "--chdir"},
      {{"--parent", ""}, "--parent"},
      {{"--grace", "-2s"}, "--grace"},
      {{"--memory-max", "12Q"}, "--memory-max"},
      {{"--memory-max", "0"}, "--memory-max"},
      {{"--memory-max", "-1M"}, "--memory-max"},
      {{"--pids-max", "abc"}, "--pids-max"},
      {{"--pids-max", "0"}, "--pids-max"},
      {{"--pids-max", "1.5"}, "--pids-max"},
      {{"--pids-max", "10K"}, "--pids-max"},
      {{"--cpu-max", "0"}, "--cpu-max"},
      {{"--cpu-max", "abc"}, "--cpu-max"},
      {{"--cpu-max", "100001"}, "--cpu-max"},
      {{"--env", "NOEQUALS"}, "--env"},
      {{"--env", "=value"}, "--env"},
      {{"--label", "nokey"}, "--label"},
      {{"--label", "=v"}, "--label"},
      {{"--id", "../escape"}, "--id"},
      {{"--id", ".hidden"}, "--id"},
      {{"--id", std::string(65, 'x')}, "--id"},
      {{"--id", "a/b"}, "--id"},
      {{"--parent", "/tmp/not-a-cgroup"}, "parent"},
      {{"--parent", "relative/path"}, "parent"},
      {{"--parent", cgroup2_mount() + "/../escape"}, "parent"},
      {{"--parent", cgroup2_mount()}, "parent"},
      {{"--result", "/nonexistent-dir/result.json"}, "--result"},
      {{"--result", tmp.path()}, "--result"},
      {{"--chdir", tmp.file("no-such-dir")}, "chdir"},
      {{}, "PROGRAM", false},               // no program at all
      {{"--"}, "PROGRAM", false},           // "--" and nothing after it
      {{"--timeout"}, "--timeout", false},  // an option without its value
      {{"--log-level", "loud"}, "--log-level"},
      // An option of another backend is refused, naming it (never ignored).
      {{"--user"}, "--user: is an option of the systemd backend, not of process"},
      {{"--unit-type", "service"}, "--unit-type: is an option of the systemd backend"},
      {{"--image", "busybox"}, "--image: is an option of the podman backend, not of process"},
      {{"--rootfs", "/"}, "--rootfs: is an option of the podman backend"},
      {{"--keep-container"}, "--keep-container: is an option of the podman backend"},
      {{"--host", "h"}, "--host: is an option of the remote backend, not of process"},
      {{"--ssh-config", "/dev/null"}, "--ssh-config: is an option of the remote backend"},
      {{"--lease", "10s"}, "--lease: is an option of the remote backend"},
      {{"--backend", "remote", "--host", "h"},
       "--parent: is an option of the process and podman backends, not of remote"},
      {{"--backend", "systemd"}, "--parent: is an option of the process and podman backends, not of systemd"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"run"};
    if (c.options.empty() || c.options[0] != "--parent") args.insert(args.end(), {"--parent", p});
    bool has_result = false;
    for (const auto& o : c.options) has_result = has_result || o == "--result";
    if (!has_result) args.insert(args.end(), {"--result", result});
    args.insert(args.end(), c.options.begin(), c.options.end());
    if (c.with_program) args.insert(args.end(), {"--", "sh", "-c", "touch " + marker});
    if (c.options.size() == 2 && c.options[0] == "--log-level")
      args = {"--log-level", "loud", "run", "--parent", p, "--", "true"};
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    CAPTURE(shown);
    RunResult r = run_cgspawn(args);
    CAPTURE(r.err);
    CHECK(r.exit_code == 125);
    auto lines = r.err_lines();
    CHECK(lines.size() == 1);
    if (!lines.empty()) {
      CHECK(lines[0].rfind("cgspawn: ", 0) == 0);
      CHECK(lines[0].find(c.named) != std::string::npos);
    }
    CHECK(r.out.empty());
    CHECK_FALSE(exists(marker));
    CHECK_FALSE(exists(result));
    CHECK(parent.children().empty());
  }
  // Not even a temporary result file.
  CHECK(std::filesystem::is_empty(tmp.path()));
}

TEST_CASE("--unit-type other than scope or service: one stderr line naming it, exit 125") {
  for (const std::string type : {"timer", "Scope", ""}) {
    RunResult r = run_cgspawn({"run", "--backend", "systemd", "--unit-type", type, "--", "true"});
    CAPTURE(type);
    CAPTURE(r.err);
    CHECK(r.exit_code == 125);
    auto lines = r.err_lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("unknown --unit-type \"" + type + "\": use scope or service") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("no command, or a word that is none: one stderr line naming it and the commands, exit 125") {
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  std::vector<Case> cases = {{{}, "no command given"},
                             {{"--log-level", "debug"}, "no command given"},
                             {{"rnu", "--", "true"}, "unknown command \"rnu\""},
                             {{"--log-level", "info", "stat", "x"}, "unknown command \"stat\""}};
  for (const auto& c : cases) {
    CAPTURE(c.named);
    RunResult r = run_cgspawn(c.args);
    CHECK(r.exit_code == 125);
    auto lines = r.err_lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("cgspawn: " + c.named, 0) == 0);
    CHECK(lines[0].find("run, start, status, wait, destroy, list, reap, backends") != std::string::npos);
    CHECK(r.out.empty());
  }
}

namespace {

// The task's own cgroup file FILE, as the task sees it.
std::string own_cgroup_file(const std::string& file) {
  return "cat " + cgroup2_mount() + "$(sed -n 's/^0:://p' /proc/self/cgroup)/" + file;
}

// Where the controller can be enabled below `parent`: the limit is really enforced.
void check_enforced(const std::string& controller, const std::string& parent, TempDir& tmp) {
  std::string result = tmp.file("enforced.json");
  if (controller == "memory") {  // over its memory.max: the kernel's OOM killer ends it
    RunResult r = run_cgspawn({"run", "-q", "--parent", parent, "--memory-max", "32M", "--result", result,
                               "--", "sh", "-c", "head -c 300M /dev/zero | tail"},
                              std::chrono::seconds(120));
    CAPTURE(r.err);
    json j = json::parse(read_text(result).value_or("{}"));
    CHECK(j.at("usage").at("oom_kills").get<int>() >= 1);
    CHECK(j.at("cleanup").at("complete") == true);
  } else if (controller == "pids") {  // a fork loop stops at pids.max
    RunResult r =
        run_cgspawn({"run", "-q", "--parent", parent, "--pids-max", "5", "--", "sh", "-c",
                     // The loop runs in a shell of its own (dash gives up at the first fork that fails); the
                     // path is found before it and read by this shell itself: at pids.max nothing forks.
                     "f=" + cgroup2_mount() + "$(sed -n 's/^0:://p' /proc/self/cgroup)/pids.current; " +
                         "sh -c 'for i in $(seq 20); do sleep 30 & done' 2>/dev/null; read n < $f; echo $n"},
                    std::chrono::seconds(120));
    CAPTURE(r.err);
    int current = std::atoi(r.out.c_str());
    CHECK(current >= 1);
    CHECK(current <= 5);
  } else {  // cpu.max reads back the quota (150 % of one CPU, period 100 ms)
    RunResult r = run_cgspawn(
        {"run", "-q", "--parent", parent, "--cpu-max", "150", "--", "sh", "-c", own_cgroup_file("cpu.max")});
    CAPTURE(r.err);
    CHECK(r.out == "150000 100000\n");
  }
}

}  // namespace

TEST_CASE("a limit: refused before anything starts, naming the controller; enforced where it can be" *
          doctest::test_suite("differs-on-systemd")) {
  TestParent parent;
  TempDir tmp;
  std::string marker = tmp.file("ran"), result = tmp.file("r.json");
  std::string controllers = read_text(parent.path() + "/cgroup.controllers").value_or("");
  struct Case {
    std::string option, value, controller;
  };
  for (const Case& c : {Case{"--memory-max", "64M", "memory"}, Case{"--pids-max", "100", "pids"},
                        Case{"--cpu-max", "150", "cpu"}}) {
    CAPTURE(c.option);
    if ((" " + controllers + " ").find(" " + c.controller) != std::string::npos) {
      parent.hand_down(c.controller);  // a pure-v2 host that hands it down
      check_enforced(c.controller, parent.path() + "/sub", tmp);
      continue;
    }
    RunResult r = run_cgspawn({"run", "--parent", parent.path() + "/sub", "--result", result, c.option,
                               c.value, "--", "sh", "-c", "touch " + marker});
    CAPTURE(r.err);
    CHECK(r.exit_code == 125);
    auto lines = r.err_lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find(c.controller) != std::string::npos);
    if (!v1_mount(c.controller).empty()) CHECK(lines[0].find("cgroup v1") != std::string::npos);
    CHECK_FALSE(exists(marker));
    CHECK_FALSE(exists(result));
    CHECK(parent.children().empty());  // not even the --parent was made
  }
}

TEST_CASE("--env, --chdir and stdio pass through") {
  TestParent parent;
  TempDir tmp;
  Child cli({cgspawn_bin(), "run", "-q", "--parent", parent.path(), "--env", "A=x y", "--env", "B=2",
             "--chdir", tmp.path(), "--", "sh", "-c", R"sh(echo "$A|$B|$(pwd)"; echo to-stderr >&2)sh"});
  RunResult r = cli.wait();
  CHECK(r.exit_code == 0);
  CHECK(r.out == "x y|2|" + tmp.path() + "\n");
  CHECK(r.err == "to-stderr\n");  // -q: nothing of cgspawn's own
  CHECK(parent.children().empty());
}

// docs/cli.md: `run` passes its stdin to the task; a started task's stdin is /dev/null (start
// returns at once, and a task that read the caller's terminal would steal its input).
TEST_CASE("stdin: run passes it to the task; a started task reads /dev/null") {
  TestParent parent;
  TempDir tmp;
  std::string state = tmp.file("state"), out = tmp.file("out");
  ::mkdir(state.c_str(), 0700);
  const std::string cg = "'" + cgspawn_bin() + "'";
  RunResult run =
      Child({"/bin/sh", "-c", "echo hello | " + cg + " run -q --parent " + parent.path() + " -- cat"}).wait();
  CAPTURE(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out == "hello\n");

  RunResult start = Child({"/bin/sh", "-c",
                           "echo hello | CGSPAWN_OUTPUT_ROOT=" + tmp.file("output") + " " + cg +
                               " start --parent " + parent.path() + " --state-dir " + state +
                               " --id in --stdout " + out + " -- sh -c 'readlink /proc/self/fd/0; cat'"})
                        .wait();
  CAPTURE(start.err);
  REQUIRE(start.exit_code == 0);
  RunResult waited = run_cgspawn({"wait", "in", "--state-dir", state});
  CHECK(waited.exit_code == 0);
  CHECK(read_text(out).value_or("") == "/dev/null\n");                         // and cat read nothing from it
  CHECK(run_cgspawn({"destroy", "in", "--state-dir", state}).exit_code == 0);  // its record and output go
  CHECK_FALSE(exists(state + "/in"));
  CHECK(parent.children().empty());
}

TEST_CASE("log lines go to stderr: the task's stdout carries only the task's output") {
  TestParent parent;
  for (const char* level : {"debug", "info"}) {
    CAPTURE(level);
    Child cli({cgspawn_bin(), "--log-level", level, "run", "-q", "--parent", parent.path(), "--id", "logs",
               "--", "sh", "-c", "echo data"});
    RunResult r = cli.wait();
    CHECK(r.exit_code == 0);
    CHECK(r.out == "data\n");
    if (std::string(level) == "debug") CHECK(r.err.find("[debug] task logs: pid ") != std::string::npos);
  }
  CHECK(parent.children().empty());
}

TEST_CASE("without -q a summary with the cleanup report goes to stderr") {
  TestParent parent;
  RunResult r = run_cgspawn({"run", "--parent", parent.path(), "--id", "summary", "--", "true"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("task summary (process) exited with exit code 0") != std::string::npos);
  CHECK(r.err.find("cleanup complete") != std::string::npos);
  CHECK(r.err.find("cgroup " + parent.task_path("summary") + ": destroyed") != std::string::npos);
}

TEST_CASE("backends --json names each limit's v1 reason; backends prints text; --version") {
  TestParent parent;
  RunResult r = run_cgspawn({"backends", "--json", "--parent", parent.path()});
  CHECK(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["schema"] == 1);
  REQUIRE(j["backends"].is_array());
  REQUIRE(!j["backends"].empty());
  const json* process = nullptr;
  for (const auto& b : j["backends"])
    if (b["backend"] == "process") process = &b;
  REQUIRE(process != nullptr);
  for (const char* key : {"usable", "kill_all", "verify", "survives_caller_crash"}) {
    CAPTURE(key);
    CHECK(process->at(key).at("available").is_boolean());
    CHECK(process->at(key).at("reason").is_string());
    CHECK_FALSE(process->at(key).at("reason").get<std::string>().empty());
  }
  CHECK((*process)["kill_all"]["available"] == true);
  CHECK((*process)["verify"]["available"] == true);
  for (auto [key, controller] :
       {std::pair{"memory_max", "memory"}, {"pids_max", "pids"}, {"cpu_max", "cpu"}}) {
    CAPTURE(key);
    const json& cap = process->at("limits").at(key);
    CHECK(cap.at("available").is_boolean());
    std::string reason = cap.at("reason");
    CHECK(reason.find(controller) != std::string::npos);
    if (!cap["available"].get<bool>() && !v1_mount(controller).empty())
      CHECK(reason.find("cgroup v1") != std::string::npos);
  }
  if (cgroup2_mount() == "/sys/fs/cgroup/unified")  // hybrid: v1 holds every controller
    for (const char* key : {"memory_max", "pids_max", "cpu_max"})
      CHECK((*process)["limits"][key]["available"] == false);

  RunResult text = run_cgspawn({"backends", "--parent", parent.path()});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("process: usable") != std::string::npos);
  CHECK(text.out.find("limit memory") != std::string::npos);

  RunResult version = run_cgspawn({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("cgspawn ", 0) == 0);
  CHECK(parent.children().empty());
}
