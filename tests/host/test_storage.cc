// SPDX-License-Identifier: MIT
// Storage (docs/backends.md, "Storage"): the scratch directory made, used, removed and verified
// gone (never across a symlink or a mount), kept on request, removed by reap after the runner's
// SIGKILL; private /tmp and IPC namespaces; files only suspected to be the task's; refusals.
// Scratch roots live in the test's own temporary directory, except in the one case that checks
// the default root.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "host.hpp"
#include "results.hpp"

using namespace cgtest;
using json = nlohmann::json;

namespace {

// A mount the test made, detached whatever happens to the test.
struct MountGuard {
  std::string at;
  ~MountGuard() {
    if (!at.empty()) ::umount2(at.c_str(), MNT_DETACH);
  }
};

bool has_note(const json& result, const std::string& text) {
  for (const auto& note : result.at("cleanup").at("notes"))
    if (note.get<std::string>().find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE(
    "storage: --scratch is the task's own directory, removed without following a symlink to / and "
    "through read-only subdirectories") {
  TestParent parent;
  TempDir tmp;
  std::string root = tmp.file("scratch"), outside = tmp.file("outside");
  write_text(outside, "keep");
  std::string body =
      "echo \"$CGSPAWN_SCRATCH $TMPDIR\" > " + tmp.file("env") +
      "; cd \"$CGSPAWN_SCRATCH\" && stat -c %a . > " + tmp.file("mode") +
      " && mkdir -p ro/deep && echo x > ro/deep/f && chmod 0500 ro/deep ro && ln -s / root && ln -s " +
      outside + " outside";
  json j = run_json(
      {"--parent", parent.path(), "--id", "scr", "--scratch", "--scratch-root", root, "--", "sh", "-c", body},
      tmp, 0);
  auto rows = rows_of(j, "directory");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("id") == root + "/scr");
  CHECK(rows[0].at("outcome") == "destroyed");
  CHECK(read_text(tmp.file("env")) == root + "/scr " + root + "/scr\n");
  CHECK(read_text(tmp.file("mode")) == "700\n");
  CHECK_FALSE(exists(root + "/scr"));
  CHECK(read_text(outside) == "keep");
  CHECK(exists("/bin/sh"));
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(j.at("cleanup").at("leftovers") == 0);
  struct stat st {};
  REQUIRE(::stat(root.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 01777);  // made as /var/tmp is
}

TEST_CASE("storage: the default scratch root; --env TMPDIR wins; --keep-scratch leaves the directory, kept") {
  TestParent parent;
  TempDir tmp;
  std::string env = tmp.file("env");
  json j = run_json({"--parent", parent.path(), "--scratch", "--env", "TMPDIR=/elsewhere", "--", "sh", "-c",
                     "echo \"$CGSPAWN_SCRATCH $TMPDIR\" > " + env},
                    tmp, 0);
  auto rows = rows_of(j, "directory");
  REQUIRE(rows.size() == 1);
  std::string path = rows[0].at("id");
  CHECK(path == "/var/tmp/cgspawn-scratch/" + j.at("id").get<std::string>());
  CHECK(read_text(env) == path + " /elsewhere\n");
  CHECK(rows[0].at("outcome") == "destroyed");
  CHECK_FALSE(exists(path));

  std::string root = tmp.file("scratch");
  json kept = run_json({"--parent", parent.path(), "--id", "kept", "--scratch", "--keep-scratch",
                        "--scratch-root", root, "--", "sh", "-c", "echo data > \"$CGSPAWN_SCRATCH/f\""},
                       tmp, 0);
  auto kept_rows = rows_of(kept, "directory");
  REQUIRE(kept_rows.size() == 1);
  CHECK(kept_rows[0].at("outcome") == "kept");
  CHECK(kept_rows[0].at("id") == root + "/kept");
  CHECK(read_text(root + "/kept/f") == "data\n");
  CHECK(kept.at("cleanup").at("complete") == true);
}

TEST_CASE(
    "storage: a mount inside the scratch directory is never crossed: kept, named, removed by reap once "
    "unmounted") {
  TestParent parent;
  TempDir tmp;
  std::string root = tmp.file("scratch"), src = tmp.file("src"), state = tmp.file("state");
  ::mkdir(src.c_str(), 0755);
  ::mkdir(state.c_str(), 0700);
  write_text(src + "/precious", "keep");
  MountGuard guard{root + "/mnt/m"};
  json j = run_json({"--parent", parent.path(), "--state-dir", state, "--id", "mnt", "--scratch",
                     "--scratch-root", root, "--", "sh", "-c",
                     "mkdir \"$CGSPAWN_SCRATCH/m\" && echo x > \"$CGSPAWN_SCRATCH/other\" && mount --bind " +
                         src + " \"$CGSPAWN_SCRATCH/m\""},
                    tmp, 125);  // the cleanup is not complete
  auto rows = rows_of(j, "directory");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("outcome") == "failed");
  CHECK(rows[0].at("detail").get<std::string>().find("a mount is inside it, at " + root + "/mnt/m") !=
        std::string::npos);
  CHECK(read_text(src + "/precious") == "keep");
  CHECK(exists(root + "/mnt/m/precious"));
  CHECK_FALSE(exists(root + "/mnt/other"));  // what is not under the mount went
  CHECK(j.at("cleanup").at("complete") == false);

  RunResult still = run_cgspawn({"reap", "--json", "--state-dir", state});
  CHECK(still.exit_code == 1);
  CHECK(exists(root + "/mnt/m/precious"));
  REQUIRE(::umount2(guard.at.c_str(), 0) == 0);
  guard.at.clear();
  RunResult reap = run_cgspawn({"reap", "--json", "--state-dir", state});
  CAPTURE(reap.out);
  CHECK(reap.exit_code == 0);
  CHECK(reap.out.find("\"directory\"") != std::string::npos);
  CHECK_FALSE(exists(root + "/mnt"));
  CHECK(read_text(src + "/precious") == "keep");
  CHECK(run_cgspawn({"list", "--json", "--state-dir", state}).out.find("\"mnt\"") == std::string::npos);
}

TEST_CASE("storage: the runner SIGKILLed, reap removes the scratch directory with the task") {
  TestParent parent;
  TempDir tmp;
  std::string root = tmp.file("scratch"), state = tmp.file("state"), ready = tmp.file("ready");
  ::mkdir(state.c_str(), 0700);
  Child run({cgspawn_bin(), "run", "-q", "--parent", parent.path(), "--state-dir", state, "--id", "crash",
             "--scratch", "--scratch-root", root, "--", "sh", "-c",
             "echo x > \"$CGSPAWN_SCRATCH/f\" && echo $$ > " + ready + " && exec sleep 1000"});
  REQUIRE(wait_for_lines(ready, 1));
  auto task = identify(read_pids(ready));
  run.signal(SIGKILL);
  run.wait();
  REQUIRE(exists(root + "/crash/f"));
  RunResult reap = run_cgspawn({"reap", "--json", "--state-dir", state});
  CAPTURE(reap.out);
  CHECK(reap.exit_code == 0);
  json r = json::parse(reap.out);
  bool removed = false;
  for (const auto& t : r.at("tasks"))
    for (const auto& row : t.at("cleanup").at("resources"))
      removed = removed || (row.at("kind") == "directory" && row.at("outcome") == "destroyed" &&
                            row.at("id") == root + "/crash");
  CHECK(removed);
  CHECK_FALSE(exists(root + "/crash"));
  CHECK(still_alive(task).empty());
  CHECK(parent.children().empty());
}

TEST_CASE(
    "storage: --private-tmp starts empty, keeps 1,000 files in /dev/shm from the host, and the scratch "
    "directory stays reachable") {
  TestParent parent;
  TempDir tmp;
  std::string root = tmp.file("scratch"), mark = "cgspawn-test-shm-" + std::to_string(::getpid());
  write_text("/dev/shm/" + mark + "-host", "");  // the host's: not visible inside
  std::string body = "n=$(ls -A /var/tmp /dev/shm | grep -c " + mark +
                     "); i=0; while [ $i -lt 1000 ]; do : > /dev/shm/" + mark + "-$i; : > /tmp/" + mark +
                     "-$i; i=$((i + 1)); done; echo \"host=$n shm=$(ls /dev/shm | wc -l) var=$(ls -A "
                     "/var/tmp | wc -l)\"; touch \"$CGSPAWN_SCRATCH/f\" && echo scratch-ok";
  RunResult r = run_cgspawn({"run", "-q", "--result", tmp.file("r.json"), "--parent", parent.path(),
                             "--scratch", "--scratch-root", root, "--private-tmp", "--", "sh", "-c", body},
                            std::chrono::seconds(120));
  ::unlink(("/dev/shm/" + mark + "-host").c_str());
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "host=0 shm=1000 var=0\nscratch-ok\n");
  json j = json::parse(read_text(tmp.file("r.json")).value_or("{}"));
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK_FALSE(has_note(j, "suspected: /dev/shm/" + mark));
  auto rows = rows_of(j, "directory");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("outcome") == "destroyed");
  CHECK(::access(("/dev/shm/" + mark + "-0").c_str(), F_OK) != 0);
  CHECK(::access(("/tmp/" + mark + "-0").c_str(), F_OK) != 0);
}

TEST_CASE("storage: --private-ipc keeps the task's SysV IPC in its own namespace, gone with it") {
  TestParent parent;
  TempDir tmp;
  std::string made = tmp.file("ipc");
  json j =
      run_json({"--parent", parent.path(), "--private-ipc", "--", helper_bin(), "ipc", "4", made}, tmp, 0);
  CHECK(split_lines(read_text(made).value_or("")).size() == 12);
  CHECK(rows_of(j, "ipc").empty());  // the host's IPC never had them
  CHECK(j.at("cleanup").at("leftovers") == 0);
  CHECK(j.at("cleanup").at("complete") == true);
}

TEST_CASE(
    "storage: without --private-tmp, a file the task left in /dev/shm or /tmp is suspected, named and never "
    "deleted") {
  TestParent parent;
  TempDir tmp;
  std::string shm = "/dev/shm/cgspawn-test-suspect-" + std::to_string(::getpid());
  std::string in_tmp = "/tmp/cgspawn-test-suspect-" + std::to_string(::getpid());
  json j = run_json({"--parent", parent.path(), "--", "sh", "-c", "echo x > " + shm + "; echo x > " + in_tmp},
                    tmp, 0);
  for (const auto& file : {shm, in_tmp}) {
    CAPTURE(file);
    bool exists_after = exists(file);
    ::unlink(file.c_str());
    CHECK(exists_after);
    CHECK(has_note(j, "suspected: " + file));
  }
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(j.at("cleanup").at("leftovers") == 0);
}

// docs/backends.md: up to 20 suspected files are named, then a count of the others.
TEST_CASE("storage: of more than 20 suspected files, 20 are named and the others counted") {
  TestParent parent;
  TempDir tmp;
  std::string prefix = "/dev/shm/cgspawn-test-many-" + std::to_string(::getpid()) + "-";
  struct RemovedAll {
    std::string prefix;
    ~RemovedAll() {
      for (int i = 0; i < 25; ++i) ::unlink((prefix + std::to_string(i)).c_str());
    }
  } removed{prefix};
  json j = run_json({"--parent", parent.path(), "--", "sh", "-c",
                     "for i in $(seq 0 24); do echo x > " + prefix + "$i; done"},
                    tmp, 0);
  std::size_t named = 0;
  long more = -1;
  for (const auto& note : j.at("cleanup").at("notes")) {
    std::string text = note.get<std::string>();
    if (text.rfind("suspected: /", 0) == 0) ++named;
    if (text.rfind("suspected: ", 0) == 0 && text.find(" more such files") != std::string::npos)
      more = std::stol(text.substr(11));
  }
  CHECK(named == 20);
  CHECK(more >= 5);  // 25 of the task's, and whatever else this user made meanwhile
  for (int i = 0; i < 25; ++i) CHECK(exists(prefix + std::to_string(i)));  // never removed
}

// The task's start is compared with times the filesystem wrote, which lag the clock by up to a
// tick (a second only where the filesystem keeps whole seconds; /dev/shm keeps nanoseconds): a
// file made 300 ms before the start is the host's, not the task's.
TEST_CASE("storage: a file made in /dev/shm shortly before the task started is not suspected") {
  TestParent parent;
  TempDir tmp;
  std::string before = "/dev/shm/cgspawn-test-before-" + std::to_string(::getpid());
  write_text(before, "x");
  struct Removed {
    std::string path;
    ~Removed() { ::unlink(path.c_str()); }
  } removed{before};
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string during = "/dev/shm/cgspawn-test-during-" + std::to_string(::getpid());
  Removed removed_too{during};
  json j = run_json({"--parent", parent.path(), "--", "sh", "-c", "echo x > " + during}, tmp, 0);
  CHECK_FALSE(has_note(j, "suspected: " + before));
  CHECK(has_note(j, "suspected: " + during));
}

TEST_CASE("storage: bad storage options are refused before anything exists") {
  TestParent parent;
  TempDir tmp;
  std::string root = tmp.file("scratch"), state = tmp.file("state");
  ::mkdir(state.c_str(), 0700);
  auto refused = [&](std::vector<std::string> options, const std::string& words) {
    std::vector<std::string> args = {"run", "--parent", parent.path(), "--state-dir", state, "--id", "bad"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {"--", "true"});
    RunResult r = run_cgspawn(args);
    CAPTURE(r.err);
    CHECK(r.exit_code == 125);
    CHECK(r.err_lines().size() == 1);
    CHECK(r.err.find(words) != std::string::npos);
    CHECK(parent.children().empty());
    CHECK_FALSE(exists(state + "/bad"));
  };
  refused({"--keep-scratch"}, "--keep-scratch: needs --scratch");
  refused({"--scratch-root", root}, "--scratch-root: needs --scratch");
  refused({"--scratch", "--scratch-root", "relative/dir"}, "not an absolute path");
  // A directory of that name exists: someone else's, never touched.
  ::mkdir(root.c_str(), 01777);
  ::mkdir((root + "/bad").c_str(), 0700);
  write_text(root + "/bad/theirs", "keep");
  refused({"--scratch", "--scratch-root", root}, "exists already");
  CHECK(read_text(root + "/bad/theirs") == "keep");
  // A scratch root others could swap directories in.
  std::string open_root = tmp.file("open");
  ::mkdir(open_root.c_str(), 0777);
  ::chmod(open_root.c_str(), 0777);
  refused({"--scratch", "--scratch-root", open_root}, "without the sticky bit");
  // A working directory the private /tmp would hide.
  refused({"--private-tmp", "--chdir", "/tmp"}, "--private-tmp: the working directory /tmp is under /tmp");
  // Namespaces need CAP_SYS_ADMIN: cgspawn run without it, as a root in a container would be.
  for (const char* option : {"--private-tmp", "--private-ipc"}) {
    CAPTURE(option);
    Child run({"/usr/bin/setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin", cgspawn_bin(),
               "run", "--parent", parent.path(), "--state-dir", state, "--id", "bad", "--scratch",
               "--scratch-root", tmp.file("never"), option, "--", "true"});
    RunResult r = run.wait();
    CAPTURE(r.err);
    CHECK(r.exit_code == 125);
    CHECK(r.err.find(std::string(option) + ": ") != std::string::npos);
    CHECK(r.err.find("CAP_SYS_ADMIN") != std::string::npos);
    CHECK(parent.children().empty());
    CHECK_FALSE(exists(state + "/bad"));
    CHECK_FALSE(exists(tmp.file("never")));
  }
  // And `backends` says so, with the reason.
  Child caps({"/usr/bin/setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin", cgspawn_bin(),
              "backends", "--json", "--parent", parent.path()});
  RunResult c = caps.wait();
  json storage = json::parse(c.out).at("backends")[0].at("storage");
  CHECK(storage.at("scratch").at("available") == true);
  for (const char* what : {"private_tmp", "private_ipc"}) {
    CAPTURE(what);
    CHECK(storage.at(what).at("available") == false);
    CHECK(storage.at(what).at("reason").get<std::string>().find("CAP_SYS_ADMIN") != std::string::npos);
  }
}

TEST_CASE("storage: cgspawn backends lists scratch, private /tmp and private IPC for every backend") {
  TestParent parent;
  RunResult r = run_cgspawn({"backends", "--json", "--parent", parent.path()});
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  for (const auto& b : j.at("backends")) {
    CAPTURE(b.at("backend"));
    for (const char* what : {"scratch", "private_tmp", "private_ipc"})
      CHECK_FALSE(b.at("storage").at(what).at("reason").get<std::string>().empty());
    if (b.at("backend") == "process") {
      CHECK(b.at("storage").at("scratch").at("available") == true);
      CHECK(b.at("storage").at("private_tmp").at("available") == true);  // as root
    }
  }
  RunResult text = run_cgspawn({"backends", "--parent", parent.path()});
  CHECK(text.out.find("scratch directory      yes") != std::string::npos);
  CHECK(text.out.find("private /tmp           yes") != std::string::npos);
}
