// SPDX-License-Identifier: MIT
// SIGTERM, SIGINT and SIGHUP to `cgspawn run`: the task is destroyed (grace, then kill) and
// cgspawn exits 128+N; a second signal during the grace skips the rest of it.
#include <doctest/doctest.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.hpp"
#include "host.hpp"

using namespace cgtest;
using nlohmann::json;

namespace {

// Whether `sig` is pending for the process as a whole (blocked and not yet read from its
// signalfd): /proc/PID/status ShdPnd.
bool signal_pending(pid_t pid, int sig) {
  for (const auto& line : split_lines(read_text("/proc/" + std::to_string(pid) + "/status").value_or(""))) {
    if (line.rfind("ShdPnd:", 0) != 0) continue;
    unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
    return (mask >> (sig - 1)) & 1;
  }
  return false;
}

}  // namespace

TEST_CASE("SIGTERM, SIGINT, SIGHUP to cgspawn run: the task is destroyed, exit 128+N") {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    CAPTURE(sig);
    TestParent parent;
    TempDir tmp;
    std::string file = tmp.file("pids"), result = tmp.file("r.json");
    Child cli({cgspawn_bin(), "run", "-q", "--parent", parent.path(), "--id", "signalled", "--grace", "30s",
               "--result", result, "--", "/bin/sh", "-c",
               R"(setsid sleep 1000 & echo $! >> "$1"; echo $$ >> "$1"; wait)", "sh", file});
    REQUIRE(wait_for_lines(file, 2));
    auto ids = identify(read_pids(file));
    cli.signal(sig);
    RunResult r = cli.wait(std::chrono::seconds(30));
    CAPTURE(r.err);
    CHECK(r.exit_code == 128 + sig);
    CHECK(r.seconds < 10);  // everything acted on SIGTERM: the 30 s grace was not waited out
    CHECK(still_alive(ids).empty());
    CHECK(parent.children().empty());
    auto text = read_text(result);
    REQUIRE(text.has_value());
    json j = json::parse(*text);
    CHECK(j["exit"]["reason"] == "destroyed");
    CHECK(j["exit"]["signal"] == SIGTERM);  // what cgspawn sent the main process
    CHECK(j["cleanup"]["complete"] == true);
    CHECK(j["cleanup"]["resources"][0]["killed"].size() == 2);
  }
}

TEST_CASE("one signal: the grace is waited out for a task that ignores SIGTERM") {
  TestParent parent;
  TempDir tmp;
  std::string file = tmp.file("pids");
  Child cli({cgspawn_bin(), "run", "-q", "--parent", parent.path(), "--grace", "1s", "--", "/bin/sh", "-c",
             R"(trap "" TERM; sleep 1000 & echo $! >> "$1"; echo $$ >> "$1"; wait)", "sh", file});
  REQUIRE(wait_for_lines(file, 2));
  auto ids = identify(read_pids(file));
  auto start = Clock::now();
  cli.signal(SIGTERM);
  RunResult r = cli.wait(std::chrono::seconds(30));
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(seconds_since(start) >= 0.95);
  CHECK(still_alive(ids).empty());
  CHECK(parent.children().empty());
}

TEST_CASE("a second signal during a long --grace skips the rest of it") {
  for (int second : {SIGINT, SIGTERM}) {
    CAPTURE(second);
    TestParent parent;
    TempDir tmp;
    std::string file = tmp.file("pids");
    Child cli({cgspawn_bin(), "run", "-q", "--parent", parent.path(), "--grace", "60s", "--", "/bin/sh", "-c",
               R"(trap "" TERM; sleep 1000 & echo $! >> "$1"; echo $$ >> "$1"; wait)", "sh", file});
    REQUIRE(wait_for_lines(file, 2));
    auto ids = identify(read_pids(file));
    auto start = Clock::now();
    cli.signal(SIGTERM);
    // cgspawn has read the first signal from its signalfd (and so is in the grace) once the
    // signal is no longer pending; only then the second one is sent.
    REQUIRE(eventually([&] { return !signal_pending(cli.pid(), SIGTERM); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cli.signal(second);
    RunResult r = cli.wait(std::chrono::seconds(90));
    CAPTURE(r.err);
    CHECK_FALSE(r.hung);
    CHECK(r.exit_code == 128 + SIGTERM);  // the first signal decides the status
    CHECK(seconds_since(start) < 20);     // far less than the 60 s grace
    CHECK(still_alive(ids).empty());
    CHECK(parent.children().empty());
  }
}
