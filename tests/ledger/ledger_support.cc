// SPDX-License-Identifier: MIT
#include "ledger_support.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ltest {
namespace {

// Supervisors are double-forked away from `start`, and a killed owner's task is orphaned:
// as a subreaper this process adopts them (and reaps them), instead of PID 1 (which does not
// reap on this host, so every dead one would stay a zombie).
const bool g_subreaper = [] {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("PR_SET_CHILD_SUBREAPER failed");
  return true;
}();

struct Stat {
  std::string comm, state;
  pid_t ppid = 0;
};

bool read_stat(pid_t pid, Stat& s) {
  auto text = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return false;
  auto open = text->find('('), close = text->rfind(')');
  if (open == std::string::npos || close == std::string::npos) return false;
  s.comm = text->substr(open + 1, close - open - 1);
  std::istringstream in(text->substr(close + 2));
  in >> s.state >> s.ppid;
  return true;
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (dirent* e = ::readdir(proc)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid > 0) out.push_back(pid);
  }
  ::closedir(proc);
  return out;
}

}  // namespace

StateDir::StateDir() : path_(tmp_.file("state")) {
  (void)g_subreaper;
  if (::mkdir(path_.c_str(), 0700) != 0)
    throw std::runtime_error("mkdir " + path_ + ": " + std::strerror(errno));
  // Started tasks' default output goes below the test's own directory: what a test leaves (a
  // corrupt record it made on purpose) goes with it. Children inherit it.
  ::setenv("CGSPAWN_OUTPUT_ROOT", tmp_.file("output").c_str(), 1);
}

std::vector<std::string> Cg::env(std::vector<std::string> extra) const {
  std::vector<std::string> out = {"CGSPAWN_STATE_DIR=" + state_.path(), "CGSPAWN_PARENT=" + parent_.path()};
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::unique_ptr<Child> Cg::spawn(const std::vector<std::string>& args,
                                 std::vector<std::string> extra_env) const {
  std::vector<std::string> argv = {cgspawn_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Child>(argv, env(std::move(extra_env)),
                                 std::vector<std::string>{"CGSPAWN_LOG", "CGSPAWN_CRASH_AT"});
}

RunResult Cg::run(const std::vector<std::string>& args, std::vector<std::string> extra_env,
                  std::chrono::milliseconds timeout) const {
  return spawn(args, std::move(extra_env))->wait(timeout);
}

std::vector<std::string> Cg::start_args(const std::string& id, const std::vector<std::string>& argv) const {
  std::vector<std::string> args = {"start", "--parent", parent_.path(), "--grace", "200ms", "--id", id, "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  return args;
}

std::vector<std::string> Cg::run_args(const std::string& id, const std::vector<std::string>& argv) const {
  std::vector<std::string> args = {"run",  "-q", "--parent", parent_.path(), "--grace", "200ms",
                                   "--id", id,   "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  return args;
}

json Cg::list_json() const {
  RunResult r = run({"list", "--json"});
  INFO("list --json: " << describe_run(r));
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

json Cg::status_json(const std::string& id) const {
  RunResult r = run({"status", id, "--json"});
  if (r.exit_code != 0) return nullptr;
  return json::parse(r.out);
}

std::vector<std::string> workload(const std::string& pidfile, const std::string& tail) {
  return {"/bin/sh", "-c", "echo $$ >> \"$1\"; sleep 100 & echo $! >> \"$1\"; " + tail, "sh", pidfile};
}

std::vector<pid_t> processes_below(const std::string& rel) {
  std::vector<pid_t> out;
  for (pid_t pid : all_pids()) {
    Stat s;
    if (!read_stat(pid, s) || s.state == "Z" || s.state == "X") continue;
    std::string cg = cgroup_of(pid);
    if (cg == rel || cg.rfind(rel + "/", 0) == 0) out.push_back(pid);
  }
  return out;
}

std::vector<pid_t> adopted_supervisors() {
  std::vector<pid_t> out;
  for (pid_t pid : all_pids()) {
    Stat s;
    if (read_stat(pid, s) && s.ppid == ::getpid() && s.state != "Z" && s.comm.rfind("cgspawn-superv", 0) == 0)
      out.push_back(pid);
  }
  return out;
}

std::vector<pid_t> cgspawn_descendants(bool supervisors_only) {
  std::map<pid_t, Stat> procs;
  for (pid_t pid : all_pids()) {
    Stat st;
    if (read_stat(pid, st)) procs[pid] = st;
  }
  std::vector<pid_t> out;
  for (const auto& [pid, st] : procs) {
    if (st.state == "Z" || st.state == "X" || pid == ::getpid()) continue;
    if (st.comm.rfind(supervisors_only ? "cgspawn-superv" : "cgspawn", 0) != 0) continue;
    if (st.comm.rfind("cgspawn-host", 0) == 0) continue;
    bool ours = false;
    for (pid_t up = st.ppid, hops = 0; up > 1 && hops < 64; ++hops) {
      if (up == ::getpid()) {
        ours = true;
        break;
      }
      auto it = procs.find(up);
      if (it == procs.end()) break;
      up = it->second.ppid;
    }
    if (ours) out.push_back(pid);
  }
  return out;
}

void settle(const Cg& cg, const std::string& id) {
  bool settled = eventually([&] {
    auto pending = cgspawn_descendants();
    if (pending.empty()) return true;
    if (cgspawn_descendants(true).size() != pending.size()) return false;  // `start` or its fork
    json s = cg.status_json(id);
    return !s.is_null() && s.at("task").at("state") != "starting";
  });
  CHECK_MESSAGE(settled, "cgspawn processes of the case did not settle");
}

void reap_zombies() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

bool supervisors_gone(std::chrono::milliseconds timeout) {
  bool gone = eventually([] { return adopted_supervisors().empty(); }, timeout);
  reap_zombies();
  return gone;
}

std::string describe_run(const RunResult& r) {
  std::ostringstream out;
  out << "exit " << r.exit_code << " signal " << r.term_signal << (r.hung ? " HUNG" : "") << "\n--- stdout\n"
      << r.out << "--- stderr\n"
      << r.err;
  return out.str();
}

void check_nothing_left(const Cg& cg, const std::string& pidfile, bool allow_live_owner) {
  json before = cg.list_json();
  for (const auto& task : before.at("tasks")) {
    if (!task.at("owner").at("alive").get<bool>()) continue;
    std::string id = task.at("id");
    INFO("task " << id << " still has a live owner: " << task.dump());
    CHECK(allow_live_owner);
    RunResult d = cg.run({"destroy", id, "--grace", "200ms", "--json"});
    INFO("destroy: " << describe_run(d));
    CHECK(d.exit_code == 0);
  }
  RunResult reap = cg.run({"reap", "--grace", "200ms"});
  INFO("reap: " << describe_run(reap));
  CHECK(reap.exit_code == 0);
  RunResult orphans = cg.run({"reap", "--orphans", "--grace", "200ms"});
  INFO("reap --orphans: " << describe_run(orphans));
  CHECK(orphans.exit_code == 0);
  CHECK(orphans.out.find("nothing to reap") != std::string::npos);  // the first reap got it all
  json after = cg.list_json();
  INFO("list after reap: " << after.dump());
  CHECK(after.at("schema") == 1);
  CHECK(after.at("tasks").empty());
  CHECK(after.at("orphans").empty());
  CHECK(after.at("corrupt").empty());
  CHECK(cg.parent().children().empty());
  auto procs = processes_below(cg.parent().relative());
  CHECK(procs.empty());
  auto pids = read_pids(pidfile);
  CHECK(alive_below(pids, cg.parent().relative(), std::chrono::milliseconds(500)).empty());
  CHECK(supervisors_gone(std::chrono::seconds(5)));
}

}  // namespace ltest
