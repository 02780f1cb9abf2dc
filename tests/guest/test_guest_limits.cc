// SPDX-License-Identifier: MIT
// The limits of the process backend on a real pure cgroup v2 host (the guest VM): memory.max
// OOM-kills, pids.max holds a fork storm, cpu.max throttles, `backends` reports the
// controllers, and a limit whose controller is not delegated is refused before anything runs.
// Every task runs below $CGTEST_DELEGATED_CGROUP/cgspawn-guest-<pid>-<n>.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <sstream>

#include "cgspawn/cgspawn.hpp"
#include "cli.hpp"
#include "guest.hpp"
#include "host.hpp"

using namespace cgtest;
using namespace cgguest;
using cgspawn::ExitReason;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;
// memory.peak may pass memory.max by what a dying (OOM-killed) task is still allowed to charge.
constexpr std::uint64_t kPeakSlack = 4 * MiB;

// The shell prelude that finds the task's own cgroup directory.
constexpr const char* kOwnCgroup = "cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup); ";

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

// The one cgroup row of a --result JSON, checked to be the task's cgroup and destroyed.
const nlohmann::json& destroyed_row(const nlohmann::json& result, const std::string& task_cgroup) {
  const auto& rows = result.at("cleanup").at("resources");
  REQUIRE(rows.size() == 1);
  const auto& row = rows[0];
  CHECK(row.at("kind") == "cgroup");
  CHECK(row.at("id") == task_cgroup);
  CHECK(row.at("outcome") == "destroyed");
  CHECK(row.at("survivors").empty());
  CHECK(result.at("cleanup").at("complete") == true);
  return row;
}

// Nothing of the task is left: its cgroup is gone and the parent (made by cgspawn) has no
// children (or is gone too: cgspawn removes an empty parent it made itself).
void check_cgroups_gone(const GuestParent& parent, const std::string& id) {
  CHECK_FALSE(exists(parent.task_path(id)));
  CHECK(parent.children().empty());
}

void check_oom_usage(std::optional<std::uint64_t> oom_kills, std::optional<std::uint64_t> peak) {
  REQUIRE(oom_kills.has_value());
  CHECK(*oom_kills >= 1);
  REQUIRE(peak.has_value());
  CHECK(*peak <= 32 * MiB + kPeakSlack);
  CHECK(*peak >= 32 * MiB * 9 / 10);  // read before the cgroup went: within 10% of the limit
}

std::vector<std::string> subdirectories(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_directory(ec)) out.push_back(e.path().filename().string());
  return out;
}

std::optional<std::uint64_t> optional_u64(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<std::uint64_t>();
}

}  // namespace

TEST_CASE("memory: --memory-max 32M OOM-kills a task that allocates 200M (CLI)") {
  GuestParent parent;
  TempDir tmp;
  std::string result = tmp.file("result.json"), limits = tmp.file("limits");
  auto r = run_cgspawn(
      {"run", "--parent", parent.path(), "--id", "oom", "--memory-max", "32M", "--timeout", ms(scaled(180s)),
       "--result", result, "--", "/bin/sh", "-c",
       std::string(kOwnCgroup) + R"(cat "$cg/memory.max" "$cg/memory.swap.max" > "$1"; exec "$2" alloc 200)",
       "sh", limits, guest_helper()},
      scaled(240s));
  INFO("stderr: " << r.err);
  CHECK_FALSE(r.hung);
  CHECK(r.exit_code == 128 + SIGKILL);
  CHECK(split_lines(read_text(limits).value_or("")) == std::vector<std::string>{"33554432", "0"});
  auto j = read_json(result);
  INFO("result: " << j.dump());
  CHECK(j.at("exit").at("reason") == "signaled");
  CHECK(j.at("exit").at("signal") == SIGKILL);
  CHECK(j.at("exit").at("cause") == "oom-limit");  // its own cgroup's oom_kill count grew
  CHECK(r.err.find("OOM-killed within its own memory limit") != std::string::npos);
  check_oom_usage(optional_u64(j.at("usage").at("oom_kills")),
                  optional_u64(j.at("usage").at("memory_peak_bytes")));
  destroyed_row(j, parent.task_path("oom"));
  check_cgroups_gone(parent, "oom");
}

TEST_CASE("memory: a 32M memory.max OOM-kills the task, and the Result says so (library)") {
  GuestParent parent;
  TempDir tmp;
  std::string go = tmp.file("go"), out = tmp.file("stdout");
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  cgspawn::TaskSpec spec;
  spec.id = "oom-lib";
  spec.argv = {guest_helper(), "alloc", "200", go};
  spec.limits.memory_max_bytes = 32 * MiB;
  spec.timeout = scaled(180s);
  spec.stdout_fd = fd;
  cgspawn::ProcessSpawnerOptions options;
  options.parent = parent.path();
  auto task = cgspawn::make_process_spawner(options)->spawn(spec);
  ::close(fd);
  REQUIRE(eventually([&] { return first_line(out) == "ready"; }, scaled(60s)));
  std::string cg = parent.task_path("oom-lib");
  CHECK(has_word(read_text(parent.path() + "/cgroup.subtree_control").value_or(""), "memory"));
  CHECK(first_line(cg + "/memory.max") == "33554432");
  CHECK(first_line(cg + "/memory.swap.max") == "0");
  write_text(go, "");
  cgspawn::Result r = task->wait();
  INFO("stdout: " << read_text(out).value_or(""));
  CHECK(r.exit.reason == ExitReason::signaled);
  CHECK(r.exit.signal == SIGKILL);
  check_oom_usage(r.usage.oom_kills, r.usage.memory_peak_bytes);
  CHECK(r.cleanup.complete());
  REQUIRE(r.cleanup.resources.size() == 1);
  CHECK(to_string(r.cleanup.resources[0].outcome) == "destroyed");
  check_cgroups_gone(parent, "oom-lib");
}

TEST_CASE("memory: a task within its memory.max is not touched, and reports its peak") {
  GuestParent parent;
  TempDir tmp;
  std::string result = tmp.file("result.json");
  auto r = run_cgspawn({"run", "--parent", parent.path(), "--id", "fits", "--memory-max", "64M", "--timeout",
                        ms(scaled(120s)), "--result", result, "--", guest_helper(), "alloc", "16"},
                       scaled(180s));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  auto j = read_json(result);
  INFO("result: " << j.dump());
  CHECK(j.at("usage").at("oom_kills") == 0);
  auto peak = optional_u64(j.at("usage").at("memory_peak_bytes"));
  REQUIRE(peak.has_value());
  CHECK(*peak >= 16 * MiB);
  CHECK(*peak <= 64 * MiB);
  destroyed_row(j, parent.task_path("fits"));
}

TEST_CASE("pids: --pids-max 5 holds a task that forks 20 sleepers to 5 processes") {
  GuestParent parent;
  TempDir tmp;
  std::string forks = tmp.file("forks"), release = tmp.file("release"), result = tmp.file("result.json");
  Child run({cgspawn_bin(), "run", "--parent", parent.path(), "--id", "pids", "--pids-max", "5", "--timeout",
             ms(scaled(180s)), "--result", result, "--", guest_helper(), "fork", "20", forks, release});
  REQUIRE(eventually([&] { return has_word(read_text(forks).value_or(""), "done"); }, scaled(120s)));
  std::string cg = parent.task_path("pids");
  CHECK(first_line(cg + "/pids.max") == "5");
  CHECK(first_line(cg + "/pids.current") == "5");  // the forker and 4 sleepers
  if (exists(cg + "/pids.peak")) CHECK(std::stoll(first_line(cg + "/pids.peak")) <= 5);
  CHECK(keyed(read_text(cg + "/pids.events").value_or(""), "max") >= 16);
  std::vector<pid_t> ok;
  int failed = 0;
  for (const auto& line : split_lines(read_text(forks).value_or(""))) {
    if (line.rfind("ok ", 0) == 0) ok.push_back(std::stoi(line.substr(3)));
    if (line.rfind("fail ", 0) == 0) {
      ++failed;
      CHECK(line == "fail " + std::to_string(EAGAIN));
    }
  }
  CHECK(ok.size() == 4);
  CHECK(failed == 16);
  CHECK(read_pids(cg + "/cgroup.procs").size() == 5);
  auto ids = identify(ok);
  write_text(release, "");  // the forker exits; its 4 sleepers are left for destroy
  RunResult r = run.wait(scaled(120s));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  auto j = read_json(result);
  INFO("result: " << j.dump());
  const auto& row = destroyed_row(j, cg);
  CHECK(row.at("killed_total") == 4);
  CHECK(still_alive(ids, scaled(10s)).empty());
  CHECK(alive_below(ok, parent.relative(), scaled(10s)).empty());
  check_cgroups_gone(parent, "pids");
}

TEST_CASE("cpu: --cpu-max 20 throttles a busy loop to well under one CPU") {
  GuestParent parent;
  TempDir tmp;
  std::string result = tmp.file("result.json"), stat = tmp.file("cpu");
  auto r = run_cgspawn({"run", "--parent", parent.path(), "--id", "cpu", "--cpu-max", "20", "--timeout",
                        ms(scaled(120s)), "--result", result, "--", "/bin/sh", "-c",
                        std::string(kOwnCgroup) + R"("$1" busy 2 && cat "$cg/cpu.max" "$cg/cpu.stat" > "$2")",
                        "sh", helper_bin(), stat},
                       scaled(180s));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  std::string text = read_text(stat).value_or("");
  INFO("cpu.max + cpu.stat: " << text);
  CHECK(first_line(stat) == "20000 100000");
  CHECK(keyed(text, "nr_throttled") > 0);
  CHECK(keyed(text, "throttled_usec") > 0);
  auto j = read_json(result);
  INFO("result: " << j.dump());
  double wall = j.at("usage").at("wall_seconds").get<double>();
  double cpu = j.at("usage").at("cpu_user_seconds").get<double>() +
               j.at("usage").at("cpu_system_seconds").get<double>();
  CHECK(wall >= 2.0);
  CHECK(cpu > 0.05);
  CHECK(cpu < 0.5 * wall);  // 20% of one CPU, with a generous margin (unthrottled it would be ~100%)
  // The throttling, in the Result too (the cpu controller is on for this task cgroup).
  CHECK(j.at("usage").at("cpu_throttled_periods").get<std::uint64_t>() > 0);
  CHECK(j.at("usage").at("cpu_throttled_seconds").get<double>() > 0);
  destroyed_row(j, parent.task_path("cpu"));
  check_cgroups_gone(parent, "cpu");
}

TEST_CASE("limits under a parent two levels below the delegated cgroup, made by cgspawn") {
  // backends says the limits are available there (the delegated cgroup hands the controllers
  // down), so run must be able to enforce them: cgspawn makes <parent>/a/b and enables the
  // controllers in each level it made.
  GuestParent parent;
  TempDir tmp;
  std::string nested = parent.path() + "/a/b", values = tmp.file("values");
  auto caps = run_cgspawn({"backends", "--json", "--parent", nested}, scaled(60s));
  REQUIRE(caps.exit_code == 0);
  CHECK(nlohmann::json::parse(caps.out).at("backends").at(0).at("limits").at("memory_max").at("available") ==
        true);
  auto r = run_cgspawn(
      {"run", "--parent", nested, "--id", "nested", "--memory-max", "32M", "--pids-max", "5", "--cpu-max",
       "50", "--timeout", ms(scaled(60s)), "--", "/bin/sh", "-c",
       std::string(kOwnCgroup) + R"(cat "$cg/memory.max" "$cg/pids.max" "$cg/cpu.max" > "$1")", "sh", values},
      scaled(120s));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(split_lines(read_text(values).value_or("")) ==
        std::vector<std::string>{"33554432", "5", "50000 100000"});
  CHECK_FALSE(exists(parent.path()));  // every level cgspawn made is removed again once empty
}

TEST_CASE("backends --json: memory, pids and cpu are available below the delegated cgroup") {
  GuestParent parent;
  auto r = run_cgspawn({"backends", "--json", "--parent", parent.path()}, scaled(60s));
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  const nlohmann::json* process = nullptr;
  for (const auto& b : j.at("backends"))
    if (b.at("backend") == "process") process = &b;
  REQUIRE(process != nullptr);
  CHECK(process->at("usable").at("available") == true);
  CHECK(process->at("kill_all").at("available") == true);
  CHECK(process->at("kill_all").at("reason").get<std::string>().find("cgroup.kill") != std::string::npos);
  CHECK(process->at("verify").at("available") == true);
  for (const char* limit : {"memory_max", "pids_max", "cpu_max"}) {
    CAPTURE(limit);
    CHECK(process->at("limits").at(limit).at("available") == true);
  }
  CHECK_FALSE(exists(parent.path()));  // asking makes nothing
}

TEST_CASE("backends --json: a parent whose controllers are not delegated has no limits") {
  GuestParent outer;
  REQUIRE(::mkdir(outer.path().c_str(), 0755) == 0);  // nothing enabled in its subtree_control
  std::string inner = outer.path() + "/inner";
  auto r = run_cgspawn({"backends", "--json", "--parent", inner}, scaled(60s));
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  const auto& process = j.at("backends").at(0);
  CHECK(process.at("backend") == "process");
  CHECK(process.at("kill_all").at("available") == true);
  for (const char* limit : {"memory_max", "pids_max", "cpu_max"}) {
    CAPTURE(limit);
    CHECK(process.at("limits").at(limit).at("available") == false);
    CHECK(process.at("limits").at(limit).at("reason").get<std::string>().find("not delegated") !=
          std::string::npos);
  }
}

TEST_CASE("a limit whose controller is not delegated is refused before anything starts") {
  GuestParent outer;
  REQUIRE(::mkdir(outer.path().c_str(), 0755) == 0);  // nothing enabled in its subtree_control
  TempDir tmp;
  struct Case {
    const char* option;
    const char* value;
    const char* controller;
  };
  for (bool inner_exists : {false, true}) {
    std::string inner = outer.path() + (inner_exists ? "/existing" : "/new");
    if (inner_exists) REQUIRE(::mkdir(inner.c_str(), 0755) == 0);
    for (Case c : {Case{"--memory-max", "32M", "memory"}, Case{"--pids-max", "5", "pids"},
                   Case{"--cpu-max", "20", "cpu"}}) {
      std::string option = c.option;
      CAPTURE(inner);
      CAPTURE(option);
      std::string marker = tmp.file(std::string("started-") + c.controller);
      auto r = run_cgspawn({"run", "--parent", inner, "--id", "refused", c.option, c.value, "--", "/bin/sh",
                            "-c", R"(touch "$1")", "sh", marker},
                           scaled(60s));
      INFO("stderr: " << r.err);
      CHECK(r.exit_code == 125);
      CHECK(r.err.find(std::string("cannot enforce the ") + c.controller + " limit") != std::string::npos);
      CHECK(r.err.find("not delegated") != std::string::npos);
      CHECK_FALSE(exists(marker));  // the task never ran
      if (inner_exists)
        CHECK(subdirectories(inner).empty());  // no task cgroup was made
      else
        CHECK_FALSE(exists(inner));
      CHECK(first_line(outer.path() + "/cgroup.subtree_control").empty());  // not enabled behind our back
    }
    // The same parent without a limit: the refusal was the limit's, not the parent's.
    std::string marker = tmp.file("started-unlimited");
    auto r = run_cgspawn(
        {"run", "--parent", inner, "--id", "unlimited", "--", "/bin/sh", "-c", R"(touch "$1")", "sh", marker},
        scaled(60s));
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(exists(marker));
    ::unlink(marker.c_str());
  }
  // The library says the same with an Error of kind unsupported, and makes nothing.
  cgspawn::ProcessSpawnerOptions options;
  options.parent = outer.path() + "/lib";
  cgspawn::TaskSpec spec;
  spec.id = "refused-lib";
  spec.argv = {"/bin/true"};
  spec.limits.pids_max = 5;
  try {
    cgspawn::make_process_spawner(options)->spawn(spec);
    FAIL("spawn with an undelegated pids controller did not throw");
  } catch (const cgspawn::Error& e) {
    CHECK(e.kind() == cgspawn::ErrorKind::unsupported);
    CHECK(std::string(e.what()).find("pids") != std::string::npos);
  }
  CHECK_FALSE(exists(options.parent));
}
