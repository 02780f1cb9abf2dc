// SPDX-License-Identifier: MIT
// The end of a podman container as its conmon tells it (backends/podman/conmon_end.hpp): the
// exit file conmon renames into its --exit-dir, looked for by the container log's thread, or
// else conmon's exit. The "conmon" here is a
// shell whose command line names an exit directory of the test's own, so each case can write
// (or not write) the files conmon would; the podman tier runs the same code with real conmon.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>

#include "backends/podman/conmon_end.hpp"
#include "backends/podman/container_log.hpp"
#include "backends/podman/container_verify.hpp"
#include "host.hpp"

using namespace cgtest;
using namespace std::chrono_literals;

namespace {

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

// How `pid`, a child of ours, ended: the signal that killed it, 0 if it exited, -1 if it runs.
int killed_by(pid_t pid) {
  int status = 0;
  pid_t got = ::waitpid(pid, &status, WNOHANG);
  if (got == 0) return -1;
  REQUIRE(got == pid);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

// A process standing in for conmon: `sh -c 'read x' sh --exit-dir DIR`, its stdin a pipe
// nobody writes, so it waits (one process, its command line kept) until killed.
struct FakeConmon {
  pid_t pid = 0;
  int quiet[2] = {-1, -1};
  explicit FakeConmon(const std::string& exit_dir) {
    REQUIRE(::pipe(quiet) == 0);
    pid = ::fork();
    if (pid == 0) {
      ::dup2(quiet[0], 0);
      ::execl("/bin/sh", "sh", "-c", "read x", "sh", "--exit-dir", exit_dir.c_str(), nullptr);
      ::_exit(127);
    }
    REQUIRE(pid > 0);
    REQUIRE(wait_for_comm(pid, "sh"));
  }
  ~FakeConmon() {
    end();
    ::close(quiet[0]);
    ::close(quiet[1]);
  }
  void end() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = 0;
  }
  cgspawn::ContainerRef ref(const std::string& id) const {
    cgspawn::ContainerRef r;
    r.name = "cgspawn-" + id;
    r.id = id;
    r.conmon_pid = pid;
    r.conmon_start = identify({pid})[0].start;
    return r;
  }
};

// As conmon writes it: a file of another name, renamed into place.
void write_exit_file(const std::string& dir, const std::string& id, const std::string& text) {
  write_text(dir + "/." + id + ".tmp", text);
  REQUIRE(::rename((dir + "/." + id + ".tmp").c_str(), (dir + "/" + id).c_str()) == 0);
}

}  // namespace

TEST_CASE("conmon's --exit-dir is read from its command line") {
  using cgspawn::exit_dir_in_cmdline;
  CHECK(exit_dir_in_cmdline(std::string("conmon\0--exit-dir\0/run/libpod/exits\0-c\0x\0", 40)) ==
        "/run/libpod/exits");
  CHECK(exit_dir_in_cmdline(std::string("conmon\0--exit-dir=/e\0", 21)) == "/e");
  CHECK(exit_dir_in_cmdline(std::string("conmon\0-c\0x\0", 12)).empty());
  CHECK(exit_dir_in_cmdline(std::string("conmon\0--exit-dir", 17)).empty());
}

TEST_CASE("conmon's exit file ends the wait with its code; other containers' files do not") {
  TempDir dir;
  FakeConmon conmon(dir.path());
  cgspawn::ConmonEnd end(conmon.ref("c0ffee"));
  CHECK(end.exit_dir() == dir.path());
  end.check();
  CHECK_FALSE(readable(end.fd(), 100));
  write_exit_file(dir.path(), "deadbeef", "1");  // another container's end
  write_text(dir.path() + "/unrelated", "x");
  end.check();
  CHECK_FALSE(readable(end.fd(), 200));
  CHECK_FALSE(end.exit_code().has_value());
  write_exit_file(dir.path(), "c0ffee", "137");
  end.check();
  REQUIRE(readable(end.fd(), 0));
  CHECK(end.exit_code() == 137);
  // podman's cleanup removes the file, then conmon exits: the code stays what was read.
  ::unlink((dir.path() + "/c0ffee").c_str());
  conmon.end();
  end.check();
  CHECK(end.exit_code() == 137);
}

TEST_CASE("conmon gone without an exit file: readable, no code; already gone: readable at once") {
  TempDir dir;
  {
    FakeConmon conmon(dir.path());
    cgspawn::ConmonEnd end(conmon.ref("killed"));
    CHECK_FALSE(readable(end.fd(), 100));
    conmon.end();  // killed while "its container" ran: no exit file
    REQUIRE(readable(end.fd(), 5000));
    end.check();
    CHECK_FALSE(end.exit_code().has_value());
  }
  FakeConmon conmon(dir.path());
  cgspawn::ContainerRef ref = conmon.ref("gone");
  conmon.end();
  cgspawn::ConmonEnd end(ref);
  CHECK(end.exit_dir().empty());  // its command line is no longer there to say
  CHECK(readable(end.fd(), 0));
  CHECK_FALSE(end.exit_code().has_value());
}

// The wiring the podman backend uses: the container log's thread looks for the exit file on
// each change in the exit directory, and once at its start (a file written before).
TEST_CASE("the container log's thread finds the exit file: at its start, and when it appears") {
  TempDir dir;
  FakeConmon conmon(dir.path());
  auto watched = [&](const std::string& id) {
    auto end = std::make_shared<cgspawn::ConmonEnd>(conmon.ref(id));
    cgspawn::ContainerLog log(std::move(cgspawn::ContainerLogFile::create().fd()), -1, -1,
                              cgspawn::ContainerLog::DirWatch{end->exit_dir(), [end] { end->check(); }});
    return std::make_pair(end, std::move(log));
  };
  write_exit_file(dir.path(), "early", "0");
  auto [early, early_log] = watched("early");
  REQUIRE(readable(early->fd(), 5000));
  CHECK(early->exit_code() == 0);
  auto [late, late_log] = watched("late");
  write_exit_file(dir.path(), "other", "1");
  CHECK_FALSE(readable(late->fd(), 300));
  write_exit_file(dir.path(), "late", "42");
  REQUIRE(readable(late->fd(), 5000));
  CHECK(late->exit_code() == 42);
}

// docs/backends.md, podman, destroy step 3: conmon (pid + start time) must have exited; one
// that outlives its emptied container only holds podman's state and is killed, but never
// while its container still has processes (it is what watches them).
TEST_CASE(
    "destroy: a conmon that outlives its emptied container is killed and named; never while it has "
    "processes") {
  TempDir dir;
  cgspawn::DestroyOptions options;
  options.verify_timeout = 200ms;  // how long a conmon is given to leave by itself
  // conmon's row after its container's destroy (`empty`: the container was verified empty).
  auto finish = [&options](const FakeConmon& conmon, bool empty) {
    cgspawn::ContainerRef ref = conmon.ref("c");
    return cgspawn::finish_conmon(ref.conmon_pid, ref.conmon_start, options, empty);
  };
  SUBCASE("the container is verified empty: killed") {
    FakeConmon conmon(dir.path());
    cgspawn::ResourceOutcome row = finish(conmon, true);
    CAPTURE(row.detail);
    CHECK(row.outcome == cgspawn::Outcome::destroyed);
    CHECK(row.detail == "conmon outlived its container: killed");
    CHECK(row.killed_total == 1);
    REQUIRE(row.killed.size() == 1);
    CHECK(row.killed[0].pid == conmon.pid);
    CHECK(row.survivors.empty());
    int how = killed_by(conmon.pid);
    CHECK(how == SIGKILL);
    if (how != -1) conmon.pid = 0;  // reaped here; else FakeConmon kills it
  }
  SUBCASE("its container still has processes: left to watch them, and the row says so") {
    FakeConmon conmon(dir.path());
    cgspawn::ResourceOutcome row = finish(conmon, false);
    CAPTURE(row.detail);
    CHECK(row.outcome == cgspawn::Outcome::failed);
    CHECK(row.detail.find("its container still has processes, so it was left to watch them") !=
          std::string::npos);
    CHECK(row.killed_total == 0);
    REQUIRE(row.survivors.size() == 1);
    CHECK(row.survivors[0].pid == conmon.pid);
    CHECK(killed_by(conmon.pid) == -1);  // still runs
  }
  SUBCASE("a conmon that leaves by itself is not signalled") {
    FakeConmon conmon(dir.path());
    REQUIRE(::write(conmon.quiet[1], "\n", 1) == 1);  // its `read` returns: it exits 0
    // Exited before it is asked about: an exit left unreaped counts as gone. (Asked at once,
    // a loaded host might not run it within the 200 ms it is given.)
    REQUIRE(eventually([&] { return process_state(conmon.pid) == "Z"; }));
    cgspawn::ResourceOutcome row = finish(conmon, true);
    CAPTURE(row.detail);
    CHECK(row.outcome == cgspawn::Outcome::destroyed);
    CHECK(row.detail.empty());
    CHECK(row.killed_total == 0);
    int how = -1;
    CHECK(eventually([&] { return (how = killed_by(conmon.pid)) != -1; }));
    CHECK(how == 0);
    if (how != -1) conmon.pid = 0;
  }
}
