// SPDX-License-Identifier: MIT
// Security: ids are never paths, a state directory must be the caller's own and
// closed to others, and a second user can neither see nor destroy root's tasks.
#include <doctest/doctest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cgspawn/ledger.hpp"
#include "ledger_support.hpp"

using namespace ltest;

namespace {

// Files and directories below `dir` (recursively), relative.
std::vector<std::string> contents(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    out.push_back(std::filesystem::relative(e.path(), dir).string());
  return out;
}

// A user of the test's own, removed (userdel) even when the test fails.
class TestUser {
 public:
  TestUser() {
    uid_t uid = 61000;
    while (::getpwuid(uid) || ::getpwnam(kName)) {
      if (::getpwnam(kName))
        throw std::runtime_error(std::string("user ") + kName + " exists already: a leftover?");
      ++uid;
    }
    RunResult r = Child({"/usr/sbin/useradd", "-M", "-N", "-g", "nogroup", "-s", "/usr/sbin/nologin", "-u",
                         std::to_string(uid), kName})
                      .wait();
    if (r.exit_code != 0) throw std::runtime_error("useradd failed: " + r.err);
    uid_ = uid;
  }
  ~TestUser() {
    RunResult r = Child({"/usr/sbin/userdel", kName}).wait();
    if (r.exit_code != 0) note_teardown_failure("userdel " + std::string(kName) + ": " + r.err);
  }
  uid_t uid() const { return uid_; }
  gid_t gid() const { return ::getpwuid(uid_)->pw_gid; }
  static constexpr const char* kName = "cgspawn-test-user";

 private:
  uid_t uid_ = 0;
};

}  // namespace

TEST_CASE("security: path-like, empty and overlong ids are refused, naming the id; nothing is made") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  const std::string long_id(300, 'a');
  for (const std::string& bad : {std::string("../x"), std::string("a/b"), std::string(".hidden"),
                                 std::string(""), long_id, std::string("../../etc"), std::string("a b")}) {
    CAPTURE(bad);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"start", "--parent", parent.path(), "--id", bad, "--", "/bin/true"},
             {"run", "--parent", parent.path(), "--id", bad, "--", "/bin/true"},
             {"status", bad},
             {"wait", bad},
             {"destroy", bad}}) {
      CAPTURE(args[0]);
      RunResult r = cg.run(args);
      INFO(describe_run(r));
      CHECK(r.exit_code == 125);
      CHECK(r.err_lines().size() == 1);  // one clear line
      if (bad.empty())
        CHECK((r.err.find("--id: an empty value") != std::string::npos ||
               r.err.find("invalid task id \"\"") != std::string::npos));
      else
        CHECK(r.err.find("\"" + bad + "\"") != std::string::npos);
      CHECK(parent.children().empty());
      CHECK(contents(state.path()).empty());
      CHECK(contents(state.outside()) == std::vector<std::string>{"state"});  // nothing next to it
    }
  }
}

TEST_CASE("security: a state directory owned by another user, or open to others, is refused") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  SUBCASE("owned by another uid") {
    REQUIRE(::chown(state.path().c_str(), 65534, 65534) == 0);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"list"}, {"reap"}, {"start", "--parent", parent.path(), "--id", "x", "--", "/bin/true"}}) {
      CAPTURE(args[0]);
      RunResult r = cg.run(args);
      INFO(describe_run(r));
      CHECK(r.exit_code == 125);
      CHECK(r.err.find(state.path()) != std::string::npos);
      CHECK(r.err.find("owned by uid 65534") != std::string::npos);
    }
  }
  std::string mode;
  SUBCASE("mode 0755") {
    mode = "0755";
  }
  SUBCASE("mode 0500") {
    mode = "0500";
  }  // closed to others, but not exactly 0700 as documented
  if (!mode.empty()) {
    REQUIRE(::chmod(state.path().c_str(), static_cast<mode_t>(std::stoi(mode, nullptr, 8))) == 0);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"list"}, {"reap"}, {"start", "--parent", parent.path(), "--id", "x", "--", "/bin/true"}}) {
      CAPTURE(args[0]);
      RunResult r = cg.run(args);
      INFO(describe_run(r));
      CHECK(r.exit_code == 125);
      CHECK(r.err.find(state.path()) != std::string::npos);
      CHECK(r.err.find("mode " + mode) != std::string::npos);
    }
    REQUIRE(::chmod(state.path().c_str(), 0700) == 0);
  }
  SUBCASE("a symlink to a private directory") {
    std::string link = state.outside() + "/link";
    REQUIRE(::symlink(state.path().c_str(), link.c_str()) == 0);
    RunResult r = cg.run({"list", "--state-dir", link});
    INFO(describe_run(r));
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("not a directory") != std::string::npos);
  }
  CHECK(parent.children().empty());
  CHECK(contents(state.path()).empty());
}

// The tasks' output goes below the output root, whose parent others must not be able to write
// to (/var/tmp/cgspawn, not /var/tmp): one that is open to them is refused, and nothing is made
// in it.
TEST_CASE("security: an output root in a directory open to others is refused; nothing is made there") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  std::string open_dir = state.outside() + "/open";
  REQUIRE(::mkdir(open_dir.c_str(), 0700) == 0);
  REQUIRE(::chmod(open_dir.c_str(), 01777) == 0);
  RunResult r = cg.run({"start", "--parent", parent.path(), "--id", "x", "--", "/bin/true"},
                       {"CGSPAWN_OUTPUT_ROOT=" + open_dir + "/output"});
  INFO(describe_run(r));
  CHECK(r.exit_code == 125);
  auto lines = r.err_lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("the parent of the output root " + open_dir + " has mode 1777") != std::string::npos);
  CHECK(contents(open_dir).empty());
  CHECK(cg.list_json()["tasks"].empty());
  CHECK(parent.children().empty());
}

TEST_CASE("security: another user can neither see nor destroy root's tasks") {
  TestParent parent;
  StateDir state;
  Cg cg(parent, state);
  TempDir work;
  std::string pids = work.file("pids");
  RunResult s = cg.run(cg.start_args("roots", workload(pids, "wait")));
  REQUIRE(s.exit_code == 0);
  REQUIRE(wait_for_lines(pids, 2));

  TestUser user;
  // The user's own XDG_RUNTIME_DIR, made by the test: 0700, theirs.
  TempDir runtime_parent;
  REQUIRE(::chmod(runtime_parent.path().c_str(), 0711) == 0);
  std::string runtime = runtime_parent.file("run-user");
  REQUIRE(::mkdir(runtime.c_str(), 0700) == 0);
  REQUIRE(::chown(runtime.c_str(), user.uid(), user.gid()) == 0);

  auto as_user = [&](std::vector<std::string> args, std::vector<std::string> env) {
    std::vector<std::string> argv = {
        "/usr/bin/setpriv", "--reuid",    std::to_string(user.uid()), "--regid", std::to_string(user.gid()),
        "--clear-groups",   cgspawn_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    bool chosen = false;
    for (const auto& e : env) chosen = chosen || e.rfind("CGSPAWN_STATE_DIR=", 0) == 0;
    if (!chosen) env.push_back("CGSPAWN_STATE_DIR=");  // for cgspawn, an empty value is no value
    return Child(argv, env, {"XDG_RUNTIME_DIR", "CGSPAWN_PARENT", "CGSPAWN_LOG", "HOME"}).wait();
  };

  SUBCASE("no XDG_RUNTIME_DIR: a clear error") {
    RunResult r = as_user({"list"}, {});
    INFO(describe_run(r));
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("XDG_RUNTIME_DIR is not set") != std::string::npos);
    CHECK(r.out.empty());
  }
  SUBCASE("with its own XDG_RUNTIME_DIR: sees nothing, cannot destroy root's task") {
    RunResult l = as_user({"list", "--json"}, {"XDG_RUNTIME_DIR=" + runtime});
    INFO(describe_run(l));
    REQUIRE(l.exit_code == 0);
    json j = json::parse(l.out);
    CHECK(j.at("tasks").empty());
    CHECK(j.at("corrupt").empty());
    CHECK(l.out.find("roots") == std::string::npos);
    // Its ledger was made where it belongs, the user's, 0700.
    struct stat st {};
    REQUIRE(::stat((runtime + "/cgspawn").c_str(), &st) == 0);
    CHECK(st.st_uid == user.uid());
    CHECK((st.st_mode & 0777) == 0700);

    RunResult d = as_user({"destroy", "roots"}, {"XDG_RUNTIME_DIR=" + runtime});
    INFO(describe_run(d));
    CHECK(d.exit_code == 3);  // nothing to destroy: not theirs to see
    CHECK(d.err.find("no task \"roots\"") != std::string::npos);
    RunResult st2 = as_user({"status", "roots"}, {"XDG_RUNTIME_DIR=" + runtime});
    CHECK(st2.exit_code == 125);
    RunResult reap = as_user({"reap", "--orphans"}, {"XDG_RUNTIME_DIR=" + runtime});
    INFO(describe_run(reap));
    CHECK(reap.out.find("roots") == std::string::npos);
  }
  SUBCASE("root's state directories are refused") {
    for (const std::string& dir : {state.path(), std::string("/run/cgspawn")}) {
      CAPTURE(dir);
      for (const auto& args : std::vector<std::vector<std::string>>{{"list", "--state-dir", dir},
                                                                    {"destroy", "roots", "--state-dir", dir},
                                                                    {"reap", "--state-dir", dir}}) {
        CAPTURE(args[0]);
        RunResult r = as_user(args, {"XDG_RUNTIME_DIR=" + runtime});
        INFO(describe_run(r));
        CHECK(r.exit_code == 125);
        CHECK(r.err.find(dir) != std::string::npos);
        CHECK(r.out.find("roots") == std::string::npos);
      }
    }
    RunResult r = as_user({"list"}, {"XDG_RUNTIME_DIR=" + runtime, "CGSPAWN_STATE_DIR=" + state.path()});
    INFO(describe_run(r));
    CHECK(r.exit_code == 125);
  }
  // Root's task is untouched by all of it.
  json st = cg.status_json("roots");
  REQUIRE_FALSE(st.is_null());
  CHECK(st.at("task").at("state") == "running");
  CHECK(st.at("task").at("owner").at("alive") == true);
  CHECK(processes_below(parent.relative()).size() == 2);
  RunResult d = cg.run({"destroy", "roots", "--grace", "200ms"});
  INFO(describe_run(d));
  CHECK(d.exit_code == 0);
  CHECK(parent.children().empty());
  CHECK(supervisors_gone());
}

TEST_CASE("security: removing a task removes the symlinks in its directories, never what they name") {
  StateDir state;
  cgspawn::Ledger ledger(state.path());
  std::string victim = state.outside() + "/victim";
  std::filesystem::create_directories(victim + "/inner");
  std::ofstream(victim + "/keep") << "kept";
  auto record = [](const std::string& id) {
    cgspawn::TaskRecord r;
    r.id = id;
    r.backend = "process";
    r.argv = {"/bin/true"};
    r.state = cgspawn::TaskState::exited;
    r.owner = {12345, 678, cgspawn::OwnerKind::supervisor};
    return r;
  };
  // Links to a directory and to a file, in the task's directory and in its output directory
  // (with a subdirectory of its own there, removed with it).
  ledger.create(record("links"));
  std::string task = ledger.task_dir("links"), output = ledger.make_output_dir("links");
  std::filesystem::create_directories(output + "/sub/deeper");
  std::ofstream(output + "/sub/deeper/file") << "x";
  for (const auto& dir : {task, output, output + "/sub"}) {
    REQUIRE(::symlink(victim.c_str(), (dir + "/to-dir").c_str()) == 0);
    REQUIRE(::symlink((victim + "/keep").c_str(), (dir + "/to-file").c_str()) == 0);
  }
  ledger.remove("links");
  CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(task)));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(output)));
  // An output directory that is itself a symlink: the link goes, the directory it names stays.
  ledger.create(record("linked"));
  std::string linked = ledger.make_output_dir("linked");
  REQUIRE(::rmdir(linked.c_str()) == 0);
  REQUIRE(::symlink(victim.c_str(), linked.c_str()) == 0);
  ledger.remove("linked");
  CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(linked)));
  CHECK(read_text(victim + "/keep") == "kept");
  CHECK(std::filesystem::is_directory(victim + "/inner"));
}
