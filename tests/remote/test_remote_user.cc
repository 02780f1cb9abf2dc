// SPDX-License-Identifier: MIT
// The remote backend for a non-root login (docs/backends.md, "A non-root user"): the fake
// remotes' cglab (lab-up.sh). On the bash lab, with neither systemd nor an installed cgspawn,
// its one possible boundary is a cgroup2 subtree delegated to that login; on the cgspawn lab,
// that cgspawn decides.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "remote_checks.hpp"

using namespace std::chrono_literals;
using cgtest::RunResult;
using cgtest::TempDir;
using rtest::Lab;
using namespace rtest::checks;

namespace {

// The remote's cgroup2 subtree delegated to its non-root login as systemd delegates one
// (Delegate=yes: the directory and its cgroup.procs, cgroup.threads and cgroup.subtree_control
// chowned; the processes of the login's sessions are in it), given back to root when it goes.
class DelegatedTo {
 public:
  explicit DelegatedTo(const Lab& lab) : root_(lab.host_cgroup()) {
    if (own(lab.user_uid())) return;
    own(0);  // what was chowned before a failure is given back
    FAIL("cannot delegate " << root_ << " to uid " << lab.user_uid());
  }
  ~DelegatedTo() { own(0); }
  DelegatedTo(const DelegatedTo&) = delete;
  DelegatedTo& operator=(const DelegatedTo&) = delete;

 private:
  bool own(uid_t uid) const {
    bool all = true;
    for (const char* file : {"", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control"})
      all = ::chown((root_ + file).c_str(), uid, uid) == 0 && all;
    return all;
  }
  std::string root_;
};

// What the login's agent leaves in the shared /tmp (and what a test planted there) is removed
// when the test is done, so that the next case starts without it.
class AgentDirRemoved {
 public:
  explicit AgentDirRemoved(const Lab& lab) : lab_(lab) { remove(); }  // a killed earlier run's too
  ~AgentDirRemoved() { remove(); }
  AgentDirRemoved(const AgentDirRemoved&) = delete;
  AgentDirRemoved& operator=(const AgentDirRemoved&) = delete;

 private:
  void remove() const {
    std::error_code ec;
    std::filesystem::remove_all(lab_.user_agent_dir(), ec);
    std::filesystem::remove_all(lab_.user_agent_dir() + ".target", ec);
  }
  const Lab& lab_;
};

// A started task destroyed when the test ends, also when a check stopped it first.
struct DestroyedAtEnd {
  std::string state, id;
  ~DestroyedAtEnd() {
    if (!id.empty()) rtest::cgspawn_in(state, {"destroy", id, "--state-dir", state, "--grace", "0s"});
  }
};

std::vector<std::string> user_args(const std::string& verb, const Lab& lab, const std::string& state,
                                   const std::vector<std::string>& extra,
                                   const std::vector<std::string>& argv) {
  std::vector<std::string> args = rtest::remote_args(verb, lab, state, extra, argv);
  args[4] = lab.user_host();  // {verb, --backend, remote, --host, HOST, ...}
  return args;
}

std::string comm_of(int pid) {
  return cgtest::read_text("/proc/" + std::to_string(pid) + "/comm").value_or("");
}

// The task's processes there once its `sleep`s run (`sleeps` of them): the short-lived ones
// before them (setsid, a shell that forks and exits) may still be going, so each is asked about
// only while it is there.
std::vector<int> task_pids_with_sleeps(const Lab& lab, long sleeps) {
  std::vector<int> pids;
  REQUIRE(rtest::wait_until(
      [&] {
        pids = rtest::remote_task_pids(lab);
        return std::count_if(pids.begin(), pids.end(), [](int p) { return comm_of(p) == "sleep\n"; }) ==
               sleeps;
      },
      30s));
  return pids;
}

long uid_of(int pid) {
  std::istringstream status(cgtest::read_text("/proc/" + std::to_string(pid) + "/status").value_or(""));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Uid:", 0) == 0) return std::stol(line.substr(4));
  return -1;
}

size_t lines_of(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The agent's cgroups are made by this login, not by an earlier root task's: none is left there.
void no_task_parent(const Lab& lab) {
  REQUIRE_MESSAGE(rtest::wait_until([&] { return !cgtest::exists(lab.task_parent()); }, 5s),
                  lab.task_parent() << " is left by an earlier test");
}

// `run` of the login on `lab` is refused before the task starts: exit 125, one line on stderr
// that has `reason`, and nothing left of it here or there.
void check_refused(const Lab& lab, const std::string& reason) {
  TempDir dir;
  std::string state = state_dir(dir);
  RunResult r = rtest::cgspawn_in(state, user_args("run", lab, state, {}, {"sh", "-c", "echo the task ran"}));
  INFO(all_of(r));
  CHECK(r.exit_code == 125);
  CHECK(r.out.find("the task ran") == std::string::npos);
  CHECK(lines_of(r.err) == 1);
  CHECK(r.err.find("cannot start the task on " + lab.user_host() + ": ") != std::string::npos);
  CHECK(r.err.find(reason) != std::string::npos);
  check_nothing_left(lab, state);
}

}  // namespace

TEST_CASE(
    "non-root login, no cgroup2 it may write and no cgspawn installed: refused before anything starts") {
  const Lab& lab = rtest::bash_lab();
  no_task_parent(lab);
  AgentDirRemoved removed(lab);
  check_refused(lab,
                "uid " + std::to_string(lab.user_uid()) + " may not write " + cgtest::cgroup2_mount() + ",");
  std::error_code ec;  // the login's agent directory stays (as root's does), with no task's state in it
  CHECK(std::filesystem::is_empty(lab.user_agent_dir(), ec));
}

TEST_CASE(
    "non-root login with a delegated cgroup2 subtree: its task runs as that user in a cgroup of its own; "
    "destroy ends all of it") {
  const Lab& lab = rtest::bash_lab();
  no_task_parent(lab);
  DelegatedTo delegated(lab);
  AgentDirRemoved removed(lab);
  TempDir dir;
  std::string state = state_dir(dir);
  DestroyedAtEnd task{state, ""};
  std::string script = "setsid sh -c 'sleep 900 & exit' </dev/null >/dev/null 2>&1; exec sleep 902";
  RunResult start =
      rtest::cgspawn_in(state, user_args("start", lab, state, {"--grace", "1s"}, {"sh", "-c", script}));
  INFO(all_of(start));
  REQUIRE(start.exit_code == 0);
  task.id = start.out.substr(0, start.out.find('\n'));
  std::vector<int> pids = task_pids_with_sleeps(lab, 2);  // the double-forked daemon's and the task's
  size_t asked = 0;
  for (int pid : pids) {
    long uid = uid_of(pid);
    if (uid == -1) continue;  // a short-lived one, gone meanwhile
    ++asked;
    CHECK_MESSAGE(uid == lab.user_uid(), "process " << pid);
  }
  CHECK(asked >= 2);

  struct stat st {};  // the agent's state: a directory of this login's alone
  REQUIRE(::lstat(lab.user_agent_dir().c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK(st.st_uid == lab.user_uid());
  CHECK((st.st_mode & 07777) == 0700);

  RunResult destroy = rtest::cgspawn_in(state, {"destroy", task.id, "--state-dir", state});
  INFO(all_of(destroy));
  CHECK(destroy.exit_code == 0);
  CHECK(rtest::wait_until([&] { return alive_count(pids) == 0; }, 5s));
  check_nothing_left(lab, state);
}

// Its files name what a kill ends and how a task ended: another user who could write there
// could choose both (docs/backends.md, "The agent's state").
TEST_CASE("non-root login whose agent directory is not its own: refused before the task starts") {
  const Lab& lab = rtest::bash_lab();
  no_task_parent(lab);
  DelegatedTo delegated(lab);  // so that only the directory's check can stop the task
  AgentDirRemoved removed(lab);
  std::string planted = lab.user_agent_dir();
  SUBCASE("a directory another user made first, writable by all") {
    REQUIRE(::mkdir(planted.c_str(), 0700) == 0);
    REQUIRE(::chmod(planted.c_str(), 01777) == 0);
    REQUIRE(::chown(planted.c_str(), 65534, 65534) == 0);
  }
  SUBCASE("a directory of that login's own that others may write (an older agent's, made under umask 0)") {
    REQUIRE(::mkdir(planted.c_str(), 0700) == 0);
    REQUIRE(::chmod(planted.c_str(), 0777) == 0);
    REQUIRE(::chown(planted.c_str(), lab.user_uid(), lab.user_uid()) == 0);
  }
  SUBCASE("a link, even to a directory of that login's own") {
    std::string target = planted + ".target";
    REQUIRE(::mkdir(target.c_str(), 0700) == 0);
    REQUIRE(::chown(target.c_str(), lab.user_uid(), lab.user_uid()) == 0);
    REQUIRE(::symlink(target.c_str(), planted.c_str()) == 0);
  }
  check_refused(lab, planted + " on remote" + std::to_string(lab.n) + " is not a directory of uid " +
                         std::to_string(lab.user_uid()) + "'s own");
}

// The installed cgspawn decides for the login (its process backend); without a subtree of its
// own that cgspawn refuses, and the start fails with its reason.
TEST_CASE("non-root login where cgspawn is installed: that cgspawn's refusal is the start's error") {
  const Lab& lab = rtest::cgspawn_lab();
  AgentDirRemoved removed(lab);
  check_refused(lab, "a user needs a delegated subtree of its own");  // that cgspawn's words
  std::error_code ec;  // that cgspawn's ledger for the login (in its agent directory) keeps no record
  CHECK(std::filesystem::is_empty(lab.user_agent_dir() + "/.ledger", ec));
  CHECK(!ec);
}

// A kill reads nothing from a directory that is no longer the login's own (docs/backends.md,
// "The agent's state"): after the task's start, another user owns it and has planted what the
// kill session would read there. Its `agent` file names a canary of the login's, which the kill's
// wake (SIGUSR1) would end; its `cg`, the canary's cgroup, which the hang report would freeze
// and describe. Both must be left alone, and the task itself destroyed by its name.
TEST_CASE(
    "non-root login: a kill and its hang report read nothing from an agent directory no longer its own") {
  const Lab& lab = rtest::bash_lab();
  REQUIRE_FALSE(lab.dash_pidns);  // the agent must see the canary by the pid this test gives it
  no_task_parent(lab);
  DelegatedTo delegated(lab);
  AgentDirRemoved removed(lab);
  std::string canary_cgroup = lab.host_cgroup() + "/canary";
  cgtest::kill_and_remove(canary_cgroup);  // a killed earlier run's
  REQUIRE(::mkdir(canary_cgroup.c_str(), 0755) == 0);
  struct CgroupRemoved {
    std::string path;
    ~CgroupRemoved() { cgtest::kill_and_remove(path); }
  } canary_cgroup_removed{canary_cgroup};
  TempDir dir;
  std::string state = state_dir(dir);
  DestroyedAtEnd task{state, ""};
  RunResult start = rtest::cgspawn_in(state, user_args("start", lab, state, {}, {"sleep", "900"}));
  INFO(all_of(start));
  REQUIRE(start.exit_code == 0);
  task.id = start.out.substr(0, start.out.find('\n'));
  std::vector<int> task_pids = task_pids_with_sleeps(lab, 1);

  std::string uid = std::to_string(lab.user_uid());
  cgtest::Child canary(
      {"/usr/bin/setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "/bin/sleep", "600"});
  REQUIRE(cgtest::wait_for_comm(canary.pid(), "sleep"));
  cgtest::write_text(canary_cgroup + "/cgroup.procs", std::to_string(canary.pid()));
  auto canary_id = cgtest::identify({canary.pid()});
  REQUIRE(canary_id.at(0).start != 0);
  std::vector<std::string> names;  // the task's state directory: the one there
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(lab.user_agent_dir(), ec))
    if (e.is_directory()) names.push_back(e.path().string());
  REQUIRE(names.size() == 1);
  cgtest::write_text(names[0] + "/agent",
                     std::to_string(canary.pid()) + " " + std::to_string(canary_id[0].start) + "\n");
  cgtest::write_text(names[0] + "/cg", "/canary\n");
  REQUIRE(::chown(lab.user_agent_dir().c_str(), 65534, 65534) == 0);
  REQUIRE(::chmod(lab.user_agent_dir().c_str(), 0755) == 0);  // its new owner lets the login read it

  RunResult destroy = rtest::cgspawn_in(state, {"destroy", task.id, "--state-dir", state, "--json"});
  INFO(all_of(destroy));
  CHECK(destroy.exit_code == 0);
  task.id.clear();
  CHECK(rtest::wait_until([&] { return alive_count(task_pids) == 0; }, 5s));
  CHECK(pid_alive(canary.pid()));  // no wake reached it
  nlohmann::json j = nlohmann::json::parse(destroy.out, nullptr, false);
  REQUIRE(j.contains("result"));
  REQUIRE(j.at("result").contains("hang"));
  std::set<int> described;
  for (const auto& p : j.at("result").at("hang").at("processes")) described.insert(p.at("pid").get<int>());
  CHECK(described.count(canary.pid()) == 0);  // not the planted cgroup's
  for (int pid : task_pids) CHECK_MESSAGE(described.count(pid) == 1, "the task's process " << pid);
  check_nothing_left(lab, state);
}

// An older agent made the directory with the login's umask (0755): it is the login's own and
// no one else may write it, so it is used as it is, mode kept.
TEST_CASE("non-root login: an older agent's 0755 directory of its own is used as it is") {
  const Lab& lab = rtest::bash_lab();
  no_task_parent(lab);
  DelegatedTo delegated(lab);
  AgentDirRemoved removed(lab);
  std::string older = lab.user_agent_dir();
  REQUIRE(::mkdir(older.c_str(), 0700) == 0);
  REQUIRE(::chmod(older.c_str(), 0755) == 0);
  REQUIRE(::chown(older.c_str(), lab.user_uid(), lab.user_uid()) == 0);
  TempDir dir;
  std::string state = state_dir(dir);
  RunResult r = rtest::cgspawn_in(state, user_args("run", lab, state, {}, {"sh", "-c", "echo the task ran"}));
  INFO(all_of(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("the task ran") != std::string::npos);
  struct stat st {};
  REQUIRE(::lstat(older.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  check_nothing_left(lab, state);
}
