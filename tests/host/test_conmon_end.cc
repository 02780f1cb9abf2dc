// SPDX-License-Identifier: MIT
// The end of a podman container as its conmon tells it (backends/podman/conmon_end.hpp): the
// exit file conmon renames into its --exit-dir, or else conmon's exit. The "conmon" here is a
// shell whose command line names an exit directory of the test's own, so each case can write
// (or not write) the files conmon would; the podman tier runs the same code with real conmon.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "backends/podman/conmon_end.hpp"
#include "host.hpp"

using namespace cgtest;
using namespace std::chrono_literals;

namespace {

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
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
  CHECK_FALSE(readable(end.fd(), 100));
  write_exit_file(dir.path(), "deadbeef", "1");  // another container's end
  write_text(dir.path() + "/unrelated", "x");
  CHECK_FALSE(readable(end.fd(), 200));
  CHECK_FALSE(end.exit_code().has_value());
  write_exit_file(dir.path(), "c0ffee", "137");
  REQUIRE(readable(end.fd(), 5000));
  CHECK(end.exit_code() == 137);
  // podman's cleanup removes the file, then conmon exits: the code stays what was read.
  ::unlink((dir.path() + "/c0ffee").c_str());
  conmon.end();
  CHECK(end.exit_code() == 137);
}

TEST_CASE("an exit file written before the watch is found; conmon gone without one gives no code") {
  TempDir dir;
  {
    FakeConmon conmon(dir.path());
    write_exit_file(dir.path(), "early", "0");
    cgspawn::ConmonEnd end(conmon.ref("early"));
    REQUIRE(readable(end.fd(), 5000));
    CHECK(end.exit_code() == 0);
  }
  FakeConmon conmon(dir.path());
  cgspawn::ConmonEnd end(conmon.ref("killed"));
  CHECK_FALSE(readable(end.fd(), 100));
  conmon.end();  // killed while "its container" ran: no exit file
  REQUIRE(readable(end.fd(), 5000));
  CHECK_FALSE(end.exit_code().has_value());
}

TEST_CASE("a conmon already gone: readable at once, no code") {
  TempDir dir;
  FakeConmon conmon(dir.path());
  cgspawn::ContainerRef ref = conmon.ref("gone");
  conmon.end();
  cgspawn::ConmonEnd end(ref);
  CHECK(readable(end.fd(), 0));
  CHECK_FALSE(end.exit_code().has_value());
}
