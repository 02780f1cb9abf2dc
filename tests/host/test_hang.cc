// SPDX-License-Identifier: MIT
// The hang report (docs/cli.md, "hang") and the usage read at a task's end, with real
// processes: a timed-out task blocked in read() on a pipe, one spinning, one in a fork loop
// (the frozen snapshot is one moment), the cases that have no report, and the host's and the
// task's pressure with the starved hint under a host made busy on purpose.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cli.hpp"
#include "host.hpp"
#include "results.hpp"

using namespace cgtest;
using json = nlohmann::json;

namespace {

// The described process whose command line is `cmdline`, or null.
const json* process_running(const json& hang, const std::string& cmdline) {
  for (const auto& p : hang.at("processes"))
    if (p.at("cmdline") == cmdline) return &p;
  return nullptr;
}

// Its wait names `function` (pipe_read: anon_pipe_read on Linux 6.15+).
bool waits_in(const json& process, const std::string& function) {
  for (const auto& t : process.at("threads")) {
    if (t.at("wchan").get<std::string>().find(function) != std::string::npos) return true;
    for (const auto& frame : t.at("stack"))
      if (frame.get<std::string>().find(function) != std::string::npos) return true;
  }
  return false;
}

bool host_has_psi() {
  return exists("/proc/pressure/cpu");
}

}  // namespace

TEST_CASE("hang report: a timed-out task blocked in read() on a pipe, frozen, as a tree in the summary") {
  TestParent parent;
  TempDir tmp;
  std::string result = tmp.file("result.json");
  RunResult r = run_cgspawn({"run", "--result", result, "--parent", parent.path(), "--timeout", "700ms",
                             "--grace", "100ms", "--", "sh", "-c", "sleep 1000 | cat"});
  CAPTURE(r.err);
  CHECK(r.exit_code == 124);
  json j = json::parse(read_text(result).value_or("{}"));
  REQUIRE(j.contains("hang"));
  const json& hang = j.at("hang");
  CHECK(hang.at("frozen") == true);
  CHECK(hang.at("note") == "");
  CHECK(hang.at("left_out") == 0);
  CHECK(hang.at("processes").size() == 3);  // sh, sleep, cat
  const json* cat = process_running(hang, "cat");
  REQUIRE(cat);
  CHECK(cat->at("state") == "S");
  CHECK(waits_in(*cat, "pipe_read"));  // what it waited for, read before the freeze
  CHECK(cat->at("cwd").get<std::string>().size() > 0);
  CHECK(cat->at("fds").get<int>() >= 3);
  CHECK(cat->at("rss_bytes").get<long>() > 0);
  CHECK(cat->at("after_freeze") == false);
  CHECK(cat->at("age_seconds").get<double>() > 0.3);
  bool reads_a_pipe = false;
  for (const auto& f : cat->at("open_files")) reads_a_pipe |= f.get<std::string>().rfind("0 pipe:[", 0) == 0;
  CHECK(reads_a_pipe);
  // The summary: the tree (sh, then its children one level in) with each one's wait.
  CHECK(r.err.find("what it was doing (frozen, 3 process(es)") != std::string::npos);
  CHECK(r.err.find("pipe_read; stack") != std::string::npos);
  CHECK(r.err.find("\n    ") != std::string::npos);
  CHECK(parent.children().empty());
}

TEST_CASE("hang report: a spinning task is running (R), not sleeping") {
  TestParent parent;
  TempDir tmp;
  json j = run_json({"--parent", parent.path(), "--timeout", "500ms", "--grace", "100ms", "--", "sh", "-c",
                     "while :; do :; done"},
                    tmp, 124);
  REQUIRE(j.contains("hang"));
  REQUIRE(j.at("hang").at("processes").size() == 1);
  const json& sh = j.at("hang").at("processes")[0];
  CHECK(sh.at("state") == "R");
  CHECK(j.at("hang").at("frozen") == true);
  CHECK(sh.at("pid") == j.at("main_pid"));
}

TEST_CASE("hang report: a fork loop, frozen, is one consistent moment") {
  TestParent parent;
  TempDir tmp;
  json j = run_json({"--parent", parent.path(), "--timeout", "1s", "--grace", "0", "--", "sh", "-c",
                     "while :; do sleep 60 & done"},
                    tmp, 124);
  REQUIRE(j.contains("hang"));
  const json& hang = j.at("hang");
  CHECK(hang.at("frozen") == true);
  const json& processes = hang.at("processes");
  size_t described = processes.size(), total = described + hang.at("left_out").get<size_t>();
  CAPTURE(total);
  CHECK(total > 10);
  CHECK(described == std::min<size_t>(total, 200));
  // Frozen, nothing exits or forks while the list is read: every process described is whole,
  // and each one's parent is the loop itself (the main program).
  int main = j.at("main_pid");
  std::set<int> pids;
  for (const auto& p : processes) {
    pids.insert(p.at("pid").get<int>());
    CHECK(!p.at("state").get<std::string>().empty());
    CHECK(!p.at("cmdline").get<std::string>().empty());
    CHECK(p.at("threads").size() >= 1);
    if (p.at("pid") != main) CHECK(p.at("ppid") == main);
  }
  CHECK(pids.size() == described);
  // destroy killed at least what the snapshot held (the loop went on during the thaw).
  CHECK(j.at("cleanup").at("resources")[0].at("killed_total").get<size_t>() >= total);
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(parent.children().empty());
}

TEST_CASE(
    "hang report: none with --no-hang-report, after the main program ended, or killed -9 from outside") {
  TestParent parent;
  TempDir tmp;
  json off = run_json({"--parent", parent.path(), "--no-hang-report", "--timeout", "300ms", "--grace",
                       "100ms", "--", "sleep", "100"},
                      tmp, 124);
  CHECK_FALSE(off.contains("hang"));
  CHECK(off.at("exit").at("cause") == "timeout");
  // Its main program exited: the daemon it left is a leftover, not a hang.
  json ended = run_json({"--parent", parent.path(), "--", "sh", "-c", "sleep 100 & exit 0"}, tmp, 0);
  CHECK_FALSE(ended.contains("hang"));
  CHECK(ended.at("cleanup").at("leftovers") == 1);
  json killed = run_json({"--parent", parent.path(), "--", "sh", "-c", "kill -9 $$"}, tmp, 128 + SIGKILL);
  CHECK_FALSE(killed.contains("hang"));
}

TEST_CASE("usage: the task's and the host's pressure, and starved when the host's CPUs are busy") {
  TestParent parent;
  TempDir tmp;
  // Twice as many spinning processes as CPUs (this test's own, outside any task): for the
  // task's whole life processes of this host wait for a CPU.
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::vector<std::unique_ptr<Child>> busy;
  for (long i = 0; i < 2 * cpus + 1; ++i)
    busy.push_back(std::make_unique<Child>(std::vector<std::string>{"/bin/sh", "-c", "while :; do :; done"}));
  json j = run_json({"--parent", parent.path(), "--", "sleep", "2"}, tmp, 0);
  busy.clear();
  const json& usage = j.at("usage");
  CAPTURE(usage.dump());
  if (host_has_psi()) {
    REQUIRE(usage.contains("host_pressure"));
    CHECK(usage.at("host_pressure").at("cpu").at("some_seconds").get<double>() >= 1.0);
    CHECK(usage.at("starved") == true);
    REQUIRE(usage.contains("pressure"));
    for (const char* resource : {"cpu", "memory", "io"})
      CHECK(usage.at("pressure").at(resource).at("some_seconds").get<double>() >= 0);
  } else {  // fields the host does not provide are absent, not zero
    CHECK_FALSE(usage.contains("host_pressure"));
    CHECK_FALSE(usage.contains("starved"));
    CHECK_FALSE(usage.contains("pressure"));
  }
  // Throttling comes with the cpu controller only (never on a hybrid host's cgroup2).
  std::string controllers = read_text(parent.path() + "/cgroup.subtree_control").value_or("");
  CHECK(usage.contains("cpu_throttled_periods") == has_word(controllers, "cpu"));
  CHECK(usage.contains("memory_peak_bytes"));
}

TEST_CASE("cgspawn backends: the hang report and the usage fields this host has") {
  TestParent parent;
  RunResult r = run_cgspawn({"backends", "--json", "--parent", parent.path()});
  REQUIRE(r.exit_code == 0);
  json all = json::parse(r.out), caps;
  for (const auto& c : all.at("backends"))
    if (c.at("backend") == "process") caps = c;
  REQUIRE(caps.is_object());
  CHECK(caps.at("hang_report").at("available") == true);
  CHECK(caps.at("hang_report").at("reason").get<std::string>().find("cgroup.freeze") != std::string::npos);
  CHECK(caps.at("usage").at("available") == host_has_psi());
  std::string reason = caps.at("usage").at("reason");
  CHECK(reason.find("the host's pressure over the task's life and the starved hint: " +
                    std::string(host_has_psi() ? "yes" : "no")) != std::string::npos);
}
