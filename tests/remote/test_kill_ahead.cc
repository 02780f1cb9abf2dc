// SPDX-License-Identifier: MIT
// `cgspawn run` on the remote backend opens its task's kill session ahead, beside the task's
// own, and holds it for the task's first 2 s (docs/backends.md, "a kill session ahead"): a
// short task's destroy goes over it; past that time it is let go; one that died is replaced
// by a session of the destroy's own.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host.hpp"
#include "remote_checks.hpp"
#include "remote_lab.hpp"

using namespace std::chrono_literals;
using cgtest::RunResult;
using cgtest::TempDir;
using rtest::Lab;
using namespace rtest::checks;

namespace {

// Sessions the lab's sshd has started so far (its log has a line for each).
size_t sessions_started(const Lab& lab) {
  return sshd_log_lines(lab, "Starting session:");
}

std::vector<std::string> cmdline_of(int pid) {
  std::vector<std::string> args;
  std::string raw = cgtest::read_text("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
  for (size_t at = 0; at < raw.size();) {
    size_t end = raw.find('\0', at);
    if (end == std::string::npos) end = raw.size();
    args.push_back(raw.substr(at, end - at));
    at = end + 1;
  }
  return args;
}

// The standby agents on `lab` (pids, as this host sees them) of the task with id `id`: in the
// lab's own cgroup, `sh -c SCRIPT cgspawn-agent MARK standby NAME`, NAME ending in -ID.
std::vector<int> standby_agents(const Lab& lab, const std::string& id) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(lab.host_cgroup(), ec)) {
    if (e.path().filename() != "cgroup.procs") continue;
    for (int pid : cgtest::read_pids(e.path().string())) {
      auto args = cmdline_of(pid);
      for (size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == "standby" && args[i + 1].size() > id.size() &&
            args[i + 1].compare(args[i + 1].size() - id.size() - 1, std::string::npos, "-" + id) == 0)
          out.push_back(pid);
    }
  }
  return out;
}

// `cgspawn run --id ID --result FILE -- ARGV` in the background on the bash lab, on a ledger of
// its own.
struct AheadRun {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir), result = dir.file("result.json"), id;
  std::unique_ptr<cgtest::Child> run;

  AheadRun(std::string task_id, const std::vector<std::string>& argv) : id(std::move(task_id)) {
    auto args = rtest::remote_args("run", lab, state, {"-q", "--id", id, "--result", result}, argv);
    run = std::make_unique<cgtest::Child>(rtest::cgspawn_argv(args), rtest::cgspawn_env(state));
  }
  std::vector<int> standbys() const { return standby_agents(lab, id); }
  // Its end: its cleanup completed, nothing of it is left. Returns how it ended.
  RunResult end() {
    RunResult r = run->wait(30s);
    INFO(all_of(r));
    nlohmann::json j = nlohmann::json::parse(cgtest::read_text(result).value_or("{}"));
    CHECK(j.at("cleanup").at("complete") == true);
    check_nothing_left(lab, state);
    return r;
  }
};

}  // namespace

TEST_CASE("kill session ahead: a short task's destroy goes over it (two sessions in all, not three)") {
  size_t before = sessions_started(rtest::bash_lab());
  AheadRun a("ahead-short", {"sleep", "1"});
  CHECK(rtest::wait_until([&] { return a.standbys().size() == 1; }, 10s));
  RunResult r = a.end();
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  // The task's session and the kill session opened ahead; a destroy of its own would be a third.
  CHECK(sessions_started(a.lab) - before == 2);
}

TEST_CASE("kill session ahead: let go after the task's first 2 s; the destroy then opens its own") {
  AheadRun a("ahead-long", {"sleep", "600"});
  CHECK(rtest::wait_until([&] { return a.standbys().size() == 1; }, 10s));
  CHECK(rtest::wait_until([&] { return a.standbys().empty(); }, 6s));  // 3x its 2 s
  CHECK(pid_alive(a.run->pid()));                                      // let go while the task runs on
  a.run->signal(SIGTERM);
  RunResult r = a.end();
  INFO(all_of(r));
  CHECK(r.exit_code == 128 + SIGTERM);
}

TEST_CASE("kill session ahead: one that died is replaced by a session of the destroy's own") {
  AheadRun a("ahead-died", {"sleep", "1.5"});
  std::vector<int> standby;
  CHECK(rtest::wait_until([&] { return (standby = a.standbys()).size() == 1; }, 10s));
  for (int pid : standby) ::kill(pid, SIGKILL);  // the lab's own process: its session ends
  RunResult r = a.end();
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
}

// A destroy of a running task asks its kill session for the hang report first (tens of
// processes: long enough to see), then for the kill: one session for both.
TEST_CASE(
    "kill session ahead: a destroy of a running task takes its hang report and its kill over one session") {
  const Lab& lab = rtest::bash_lab();
  TempDir dir;
  std::string state = state_dir(dir);
  RunResult s = rtest::cgspawn_in(
      state, rtest::remote_args("start", lab, state, {"--id", "ahead-hang"},
                                {"sh", "-c", "for i in $(seq 20); do sleep 600 & done; wait"}));
  INFO(all_of(s));
  REQUIRE(s.exit_code == 0);
  REQUIRE(populated_with(lab, 21));
  size_t before = sessions_started(lab);
  RunResult d =
      rtest::cgspawn_in(state, {"destroy", "ahead-hang", "--state-dir", state, "--grace", "0s", "--json"});
  INFO(all_of(d));
  CHECK(d.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(d.out);
  REQUIRE(j.at("result").contains("hang"));
  CHECK(j.at("result").at("hang").at("processes").size() >= 21);  // the sleeps, their shell, the wrapper
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(sessions_started(lab) - before == 1);  // the report's and the kill's: the same one
  check_nothing_left(lab, state);
}
