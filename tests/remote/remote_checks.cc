// SPDX-License-Identifier: MIT
// The checks and helpers the remote suite's test files share.
#include "remote_checks.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "host.hpp"

using namespace std::chrono_literals;
using cgtest::RunResult;
using cgtest::TempDir;

namespace rtest::checks {

std::string state_dir(const TempDir& dir) {
  return dir.file("state");
}

std::string all_of(const RunResult& r) {
  std::string how = r.hung          ? " (hung: killed at the test's timeout)"
                    : r.term_signal ? " (killed by signal " + std::to_string(r.term_signal) + ")"
                                    : "";
  return "exit " + std::to_string(r.exit_code) + how + " after " + std::to_string(r.seconds) +
         " s\nstdout: " + r.out + "\nstderr: " + r.err;
}

// The task records of the cgspawn installed on `lab` (its ledger /run/cgspawn, private to the remote).
std::string installed_ledger_tasks(const Lab& lab) {
  return lab.ssh("cd /run/cgspawn 2>/dev/null && for d in *; do [ -d \"$d\" ] && echo \"$d\"; done; true");
}

namespace {

// What is in `dir` and who holds a lock on it (/proc/locks: "ID: [->] FLOCK ADVISORY READ PID
// MAJ:MIN:INODE ..."): said when the ssh control directory is left, to name the process whose
// hold on a master (`<hash>.users`) kept it open.
std::string locks_in(const std::string& dir) {
  std::map<unsigned long, std::string> names;
  std::string out = "files:";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0) names[st.st_ino] = e.path().filename().string();
    out += " " + e.path().filename().string();
  }
  std::istringstream locks(cgtest::read_text("/proc/locks").value_or(""));
  for (std::string line; std::getline(locks, line);) {
    std::istringstream fields(line);
    std::string id, type, mode, access, pid, where;
    fields >> id >> type;
    if (type == "->") fields >> type;  // a waiter
    fields >> mode >> access >> pid >> where;
    auto it = names.find(std::strtoul(where.substr(where.rfind(':') + 1).c_str(), nullptr, 10));
    if (it == names.end()) continue;
    std::string cmdline = cgtest::read_text("/proc/" + pid + "/cmdline").value_or("(gone)");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    out += "; " + it->second + ": " + type + " " + access + " by " + pid + " " + cmdline;
  }
  return out;
}

}  // namespace

// Nothing of the test is left: no remote task cgroup or record, no local ssh, no record.
void check_nothing_left(const Lab& lab, const std::string& state) {
  if (lab.cgspawn)
    CHECK_MESSAGE(installed_ledger_tasks(lab).empty(),
                  "records of the installed cgspawn left on " << lab.alias());
  CHECK_MESSAGE(rtest::wait_until([&] { return rtest::remote_task_cgroups(lab).empty(); }, 5s),
                "remote task cgroups left on " << lab.alias());
  CHECK_MESSAGE(rtest::wait_until([&] { return rtest::local_ssh_processes(state).empty(); }, 5s),
                "local ssh processes left for " << state);
  RunResult list = rtest::cgspawn_in(state, {"list", "--state-dir", state});
  CHECK_MESSAGE(list.out.find("remote") == std::string::npos, "records left: " << list.out);
  CHECK_MESSAGE(!cgtest::exists(state + "/.ssh-mux"),
                "the ssh control directory is left in " << state << ": " << locks_in(state + "/.ssh-mux"));
  std::error_code ec;  // a task's output goes with its record
  CHECK_MESSAGE(std::filesystem::directory_iterator(rtest::output_root(state), ec) ==
                    std::filesystem::directory_iterator(),
                "task output left in " << rtest::output_root(state));
}

Sleepers::~Sleepers() {
  for (const auto& id : ids_)
    rtest::cgspawn_in(state_, {"destroy", id, "--state-dir", state_, "--grace", "0s"});
  rtest::cgspawn_in(state_, {"reap", "--state-dir", state_, "--grace", "0s"});
}

void Sleepers::start(const Lab& lab, const std::string& id, const std::vector<std::string>& extra) {
  ids_.push_back(id);
  std::vector<std::string> options = {"--id", id};
  options.insert(options.end(), extra.begin(), extra.end());
  RunResult s =
      rtest::cgspawn_in(state_, rtest::remote_args("start", lab, state_, options, {"sleep", "600"}));
  INFO(all_of(s));
  REQUIRE(s.exit_code == 0);
}

std::vector<std::string> control_sockets(const std::string& state) {
  return control_sockets_in(state + "/.ssh-mux");
}

std::vector<std::string> control_sockets_in(const std::string& dir) {
  std::vector<std::string> found;
  if (!cgtest::exists(dir)) return found;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() != ".lock" && e.path().extension() != ".users")
      found.push_back(e.path().string());
  return found;
}

std::vector<std::string> hostile_words(const std::string& canary) {
  return {"a b",
          "it's",
          "say \"hi\"",
          "$(touch " + canary + ")",
          "`touch " + canary + "`",
          "line1\nline2",
          "-n",
          "",
          "*",
          "back\\slash",
          ";",
          "|",
          "&&",
          "~",
          "!",
          "tab\there",
          "ends-with-newline\n",
          "\xc3\xbcn\xc3\xaf",
          "--",
          "$HOME",
          "%s",
          "'",
          "''",
          "a'b'c",
          "\\",
          "-V"};
}

void check_argv_byte_exact(const Lab& lab) {
  TempDir dir;
  std::string canary = dir.file("PWNED");
  auto words = hostile_words(canary);
  std::vector<std::string> argv = {"printf", "%s\\0"};
  argv.insert(argv.end(), words.begin(), words.end());
  std::string expected;
  for (const auto& w : words) expected += w + std::string(1, '\0');
  RunResult r =
      rtest::cgspawn_in(state_dir(dir), rtest::remote_args("run", lab, state_dir(dir), {"-q"}, argv));
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == expected);
  CHECK_FALSE(cgtest::exists(canary));
  check_nothing_left(lab, state_dir(dir));
}

void check_exit_status(const Lab& lab) {
  TempDir dir;
  for (int code : {0, 7, 255}) {
    RunResult r = rtest::cgspawn_in(
        state_dir(dir),
        rtest::remote_args("run", lab, state_dir(dir), {"-q"}, {"sh", "-c", "exit " + std::to_string(code)}));
    INFO(all_of(r));
    CHECK(r.exit_code == code);
  }
  // A status above 128 is a signal (the shell folds them so): the Result says which.
  std::string result = dir.file("result.json");
  RunResult r = rtest::cgspawn_in(state_dir(dir),
                                  rtest::remote_args("run", lab, state_dir(dir), {"-q", "--result", result},
                                                     {"sh", "-c", "kill -TERM $$"}));
  INFO(all_of(r));
  CHECK(r.exit_code == 128 + SIGTERM);
  auto exit = nlohmann::json::parse(cgtest::read_text(result).value_or("{}")).at("exit");
  CHECK(exit.at("reason") == "signaled");
  CHECK(exit.at("signal") == SIGTERM);
  CHECK(exit.at("code").is_null());
  check_nothing_left(lab, state_dir(dir));
}

void check_status_unforgeable(const Lab& lab) {
  TempDir dir;
  std::string forger =
      "for m in $(cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr \"\\0\" \"\\n\" |"
      "           grep -o \"@@cgspawn-[0-9a-f]*@@\" | sort -u); do echo \"$m EXITED rc=0\" >&2; done; "
      "echo \"@@cgspawn-0123456789abcdef@@ EXITED rc=0\" >&2; echo \"EXITED rc=0\" >&2; sleep 0.3; exit 3";
  RunResult r = rtest::cgspawn_in(
      state_dir(dir), rtest::remote_args("run", lab, state_dir(dir), {"-q"}, {"sh", "-c", forger}));
  INFO(all_of(r));
  CHECK(r.exit_code == 3);  // not the 0 of a line that passed for the agent's
  // Lines of another mark, or of none, are the task's output and pass through unchanged.
  CHECK(r.err.find("@@cgspawn-0123456789abcdef@@ EXITED rc=0\n") != std::string::npos);
  CHECK(r.err.find("\nEXITED rc=0\n") != std::string::npos);
  check_nothing_left(lab, state_dir(dir));
}

// Waits for the remote task cgroup to hold at least `n` processes.
bool populated_with(const Lab& lab, size_t n, std::chrono::milliseconds timeout) {
  return rtest::wait_until([&] { return rtest::remote_task_pids(lab).size() >= n; }, timeout);
}

bool pid_alive(int pid) {
  auto stat = cgtest::read_text("/proc/" + std::to_string(pid) + "/stat");
  return stat && stat->find(") Z ") == std::string::npos;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

size_t sshd_log_lines(const Lab& lab, const std::string& prefix) {
  std::ifstream log(lab.sshd_log());
  size_t n = 0;
  for (std::string line; std::getline(log, line);)
    if (line.rfind(prefix, 0) == 0) ++n;
  return n;
}

// A copy of the lab's client config with one line replaced.
std::string config_with(const Lab& lab, const TempDir& dir, const std::string& key,
                        const std::string& value) {
  std::ifstream in(lab.config());
  std::ostringstream out;
  for (std::string line; std::getline(in, line);) {
    if (line.find("  " + key + " ") == 0) line = "  " + key + " " + value;
    out << line << "\n";
  }
  std::string path = dir.file("ssh_config");
  cgtest::write_text(path, out.str(), 0600);
  return path;
}

void check_start_failure(const Lab& lab, const std::string& config, const std::string& reason,
                         const std::vector<std::string>& options) {
  TempDir dir;
  std::string state = state_dir(dir);
  std::vector<std::string> args = {"run",          "--backend", "remote",      "--host", lab.alias(),
                                   "--ssh-config", config,      "--state-dir", state};
  args.insert(args.end(), options.begin(), options.end());
  args.insert(args.end(), {"--", "sleep", "600"});
  RunResult r = rtest::cgspawn_in(state, args);
  INFO(all_of(r));
  CHECK(r.exit_code == 125);
  CHECK(r.err.find(reason) != std::string::npos);
  check_nothing_left(lab, state);
}

Escapees start_escapees(const Lab& lab, const std::string& state, int sleepers) {
  std::string script =
      "setsid sh -c 'sleep 900 & exit' </dev/null >/dev/null 2>&1; "
      "sh -c 'trap \"\" TERM; while :; do sleep 1; done' & "
      "i=0; while [ $i -lt " +
      std::to_string(sleepers) + " ]; do sleep 901 & i=$((i+1)); done; exec sleep 902";
  RunResult start = rtest::cgspawn_in(
      state, rtest::remote_args("start", lab, state, {"--grace", "1s"}, {"sh", "-c", script}));
  INFO(all_of(start));
  REQUIRE(start.exit_code == 0);
  REQUIRE(populated_with(lab, static_cast<size_t>(sleepers) + 3));
  return {start.out.substr(0, start.out.find('\n')), rtest::remote_task_pids(lab)};
}

// The task runs there and its record says so: `run` has read the agent's STARTED and recorded
// where the task lives (a SIGKILL before that leaves a record that names less, correctly).
void wait_until_recorded_running(const std::string& state) {
  REQUIRE(rtest::wait_until(
      [&] {
        return rtest::cgspawn_in(state, {"list", "--state-dir", state}).out.find("  running  ") !=
               std::string::npos;
      },
      30s));
}

RunResult check_sigkill_then_reap(const Lab& lab) {
  BackgroundRun run(lab, {"--lease", "3s"});
  REQUIRE(populated_with(lab, 2));
  wait_until_recorded_running(state_dir(run.dir));
  auto pids = rtest::remote_task_pids(lab);
  run.child->signal(SIGKILL);
  run.child->wait(10s);
  CHECK(rtest::wait_until([&] { return rtest::remote_task_cgroups(lab).empty(); }, 3 * kLease));
  for (int p : pids) CHECK_FALSE(pid_alive(p));
  std::string state = state_dir(run.dir);
  RunResult reap = reap_completes(state);
  check_nothing_left(lab, state);
  return reap;
}

RunResult reap_completes(const std::string& state) {
  RunResult reap = rtest::cgspawn_in(state, {"reap", "--state-dir", state});
  INFO(all_of(reap));
  CHECK(reap.exit_code == 0);
  return reap;
}

RunResult stop_under_fault(const Lab& lab, BackgroundRun& run, const std::string& fault, double& took) {
  REQUIRE(populated_with(lab, 2));
  lab.fault(fault);
  auto faulted = std::chrono::steady_clock::now();
  run.child->signal(SIGTERM);
  RunResult r = run.child->wait(60s);
  took = seconds_since(faulted);
  INFO(all_of(r));
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("not-guaranteed") != std::string::npos);
  CHECK(took < 3 * std::chrono::duration<double>(kDestroyBound).count());
  return r;
}

void check_partition(const Lab& lab) {
  BackgroundRun run(lab, {"--lease", "3s", "--grace", "0s"});
  double took = 0;
  RunResult r = stop_under_fault(lab, run, "drop", took);
  auto since = std::chrono::steady_clock::now();
  bool lease_killed = rtest::wait_until([&] { return rtest::remote_task_cgroups(lab).empty(); }, 3 * kLease);
  double gone_after = took + seconds_since(since);
  lab.fault("undrop");
  INFO(all_of(r));
  CHECK(r.err.find("when the lease expires, at most 3s after") != std::string::npos);
  CHECK_MESSAGE(lease_killed,
                "the remote task cgroup was still there " << gone_after << "s into the partition");
  std::string state = state_dir(run.dir);
  RunResult reap = reap_completes(state);
  INFO(all_of(reap));
  CHECK(reap.out.find("lease-expired") != std::string::npos);
  check_nothing_left(lab, state);
}

void check_partition_without_lease(const Lab& lab) {
  BackgroundRun run(lab, {"--lease", "none", "--grace", "0s"});
  REQUIRE(populated_with(lab, 2));
  std::string state = state_dir(run.dir);
  {
    FaultFor partition(lab, "drop", "undrop");
    run.child->signal(SIGTERM);
    RunResult r = run.child->wait(60s);
    INFO(all_of(r));
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("not-guaranteed") != std::string::npos);
    CHECK(r.err.find("no lease (--lease none): the task may keep running in ") != std::string::npos);
    CHECK(r.err.find("until `cgspawn reap` reaches the host") != std::string::npos);
    // What a lease would have ended by now (check_partition) still runs: nothing there kills it.
    std::this_thread::sleep_for(3 * kLease);
    CHECK(rtest::remote_task_pids(lab).size() >= 2);
  }
  RunResult reap = reap_completes(state);
  INFO(all_of(reap));
  check_nothing_left(lab, state);
}

size_t alive_count(const std::vector<int>& pids) {
  size_t alive = 0;
  for (int p : pids) alive += pid_alive(p);
  return alive;
}

BackgroundRun::BackgroundRun(const Lab& lab, const std::vector<std::string>& extra) {
  auto args =
      rtest::remote_args("run", lab, state_dir(dir), extra, {"sh", "-c", "sleep 600 & exec sleep 601"});
  child = std::make_unique<cgtest::Child>(rtest::cgspawn_argv(args), rtest::cgspawn_env(state_dir(dir)));
}

}  // namespace rtest::checks
