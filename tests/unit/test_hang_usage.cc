// SPDX-License-Identifier: MIT
// The hang report's and usage's pure parts: PSI parsing and the starved hint, the Result JSON
// (fields the host does not provide are absent), the text tree's bound, the remote agent's lines;
// and the host's pressure files, which stay open, read again after a caller closed them.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "backends/remote/remote_hang.hpp"
#include "cgroup/pressure.hpp"
#include "cgspawn/json.hpp"
#include "cgspawn/text.hpp"
#include "report/json_codec.hpp"
#include "util/file_io.hpp"

using namespace cgspawn;
using nlohmann::json;

TEST_CASE("keyed values and words of cgroup files, by whole key and whole word") {
  std::string cpu = "usage_usec 2283\nuser_usec 2000\nsystem_usec 283\nnr_throttled 0\n";
  CHECK(keyed_value(cpu, "user_usec") == 2000u);
  CHECK(keyed_value(cpu, "system_usec") == 283u);
  CHECK(keyed_value(cpu, "nr_throttled") == 0u);
  CHECK_FALSE(keyed_value(cpu, "user"));  // a prefix of a key is not the key
  CHECK_FALSE(keyed_value(cpu, "throttled_usec"));
  CHECK(keyed_value("populated 1\nfrozen 0", "frozen") == 0u);  // the last line without its newline
  CHECK(keyed_value("oom_kill\t18446744073709551615\n", "oom_kill") == 18446744073709551615ull);
  CHECK_FALSE(keyed_value("populated x\n", "populated"));  // not a number: no value
  CHECK_FALSE(keyed_value("populated\n", "populated"));
  CHECK_FALSE(keyed_value("", "populated"));

  CHECK(has_word("cpu io memory pids", "memory"));
  CHECK(has_word("cpuset cpu\n", "cpu"));
  CHECK_FALSE(has_word("cpuset io\n", "cpu"));  // a word that begins with it is not it
  CHECK_FALSE(has_word("", "cpu"));
  CHECK_FALSE(has_word("cpu", ""));
}

TEST_CASE("pressure: PSI totals in seconds, growth, the starved hint") {
  auto stall = parse_stall(
      "some avg10=1.00 avg60=0.50 avg300=0.10 total=2500000\n"
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=500000\n");
  REQUIRE(stall);
  CHECK(stall->some_seconds == doctest::Approx(2.5));
  CHECK(stall->full_seconds == doctest::Approx(0.5));
  auto some_only = parse_stall("some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n");
  REQUIRE(some_only);
  CHECK_FALSE(some_only->full_seconds);
  CHECK_FALSE(parse_stall(""));
  CHECK_FALSE(parse_stall("some avg10=0.00 total=x\n"));
  CHECK_FALSE(parse_stall("some avg10=0.00\n"));                      // no total=
  CHECK_FALSE(parse_stall("something avg10=0.00 total=5\n"));         // not the "some" line
  CHECK_FALSE(parse_stall("some total=5\nfull avg10=0.00 total=y"));  // a full line that is wrong
  CHECK(parse_stall("full total=1\nsome total=3000000")->some_seconds == doctest::Approx(3.0));

  std::map<std::string, Stall> before{{"cpu", {1.0, 0.0}}, {"io", {3.0, 1.0}}};
  std::map<std::string, Stall> after{{"cpu", {7.0, 0.0}}, {"io", {3.5, 1.25}}, {"memory", {9.0, 1.0}}};
  auto growth = stall_growth(before, after);
  CHECK(growth.size() == 2);  // memory was not read at the start: absent, never a guess
  CHECK(growth["cpu"].some_seconds == doctest::Approx(6.0));
  CHECK(growth["io"].full_seconds == doctest::Approx(0.25));
  // Starved: the host's CPU "some" stall reached half of the task's life.
  CHECK(starved(growth, 12.0) == true);
  CHECK(starved(growth, 12.1) == false);
  CHECK_FALSE(starved({{"io", {1.0, 0.0}}}, 10.0));  // no host CPU pressure: no hint
}

// The descriptors host_stalls() keeps, found by what they point at.
static std::vector<int> pressure_fds() {
  std::vector<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(entry.path(), ec).string();
    if (target.rfind("/proc/pressure/", 0) == 0) fds.push_back(std::stoi(entry.path().filename().string()));
  }
  return fds;
}

TEST_CASE(
    "host pressure: the files kept open are read again after a caller closed them and reused the numbers") {
  bool psi = ::access("/proc/pressure/cpu", R_OK) == 0;
  auto first = host_stalls();
  CHECK(first.size() == (psi ? 3u : 0u));
  std::vector<int> kept = pressure_fds();
  CHECK(kept.size() == first.size());  // opened once, kept for the next task
  CHECK(host_stalls().size() == first.size());
  CHECK(pressure_fds() == kept);  // not opened again
  // A runner that closes every descriptor it did not open itself (closefrom), then opens
  // files that get the same numbers: they are not read as pressure.
  int other = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  REQUIRE(other >= 0);
  for (int fd : kept) REQUIRE(::dup2(other, fd) == fd);  // closes the pressure file, takes its number
  auto again = host_stalls();
  CHECK(again.size() == first.size());
  for (const auto& [resource, stall] : first) CHECK(again[resource].some_seconds >= stall.some_seconds);
  for (int fd : kept) ::close(fd);
  ::close(other);
}

TEST_CASE("Result JSON: usage fields the host provides, absent the others; the hang section round trip") {
  Result r;
  r.id = "t";
  r.backend = "process";
  json plain = json::parse(to_json(r));
  for (const char* absent :
       {"cpu_throttled_periods", "cpu_throttled_seconds", "pressure", "host_pressure", "starved"})
    CHECK_FALSE(plain["usage"].contains(absent));
  CHECK_FALSE(plain.contains("hang"));

  r.usage.cpu_throttled_periods = 4;
  r.usage.cpu_throttled_seconds = 0.5;
  r.usage.pressure["memory"] = {1.5, 0.5};
  r.usage.host_pressure["cpu"] = {3.0, std::nullopt};
  r.usage.starved = true;
  HangReport hang;
  hang.frozen = true;
  hang.left_out = 3;
  HungProcess p;
  p.pid = 10;
  p.ppid = 1;
  p.state = "S";
  p.comm = "cat";
  p.cmdline = "cat";
  p.cwd = "/";
  p.age_seconds = 2.5;
  p.rss_bytes = 4096;
  p.fds = 3;
  p.open_files = {"0 pipe:[12]"};
  p.threads = {{10, "pipe_read", {"pipe_read", "vfs_read"}}};
  hang.processes.push_back(p);
  r.hang = hang;
  json j = json::parse(to_json(r));
  CHECK(j["usage"]["pressure"]["memory"] == json::parse(R"({"some_seconds":1.5,"full_seconds":0.5})"));
  CHECK(j["usage"]["host_pressure"]["cpu"] == json::parse(R"({"some_seconds":3.0})"));
  CHECK(j["usage"]["starved"] == true);
  CHECK(j["hang"]["frozen"] == true);
  CHECK(j["hang"]["left_out"] == 3);
  CHECK(j["hang"]["processes"][0]["threads"][0]["wchan"] == "pipe_read");
  Result back = result_from_json(j);
  REQUIRE(back.hang);
  CHECK(back.hang->processes.at(0).threads.at(0).stack.size() == 2);
  CHECK(back.usage.cpu_throttled_periods == 4);
  CHECK(back.usage.host_pressure.at("cpu").some_seconds == 3.0);
  CHECK(json::parse(to_json(back)) == j);
}

TEST_CASE("hang report text: a tree, parents before children, bounded, with what was left out") {
  HangReport hang;
  hang.frozen = true;
  for (int i = 0; i < 30; ++i) {
    HungProcess p;
    p.pid = 100 + i;
    p.ppid = i == 0 ? 1 : 100;
    p.state = "S";
    p.cmdline = "child " + std::to_string(i);
    p.threads = {{p.pid, "do_wait", {}}};
    hang.processes.push_back(p);
  }
  hang.left_out = 5;
  std::string text = describe(hang);
  CHECK(text.find("frozen, 35 process(es)") != std::string::npos);
  CHECK(text.find("  100 S") != std::string::npos);    // the root, not indented
  CHECK(text.find("    101 S") != std::string::npos);  // its child, one level in
  CHECK(text.find("waits in do_wait") != std::string::npos);
  CHECK(text.find("child 25") == std::string::npos);  // beyond the 20 shown
  CHECK(text.find("... 15 more (5 not described") != std::string::npos);
}

TEST_CASE("remote hang report: the agent's lines, state from before the freeze") {
  using remote::Marker;
  std::vector<Marker> lines = {
      {"HELLO", "host=h boot_id=b"},
      {"HANG-WAIT", "pid=7 tid=7 state=S wchan=pipe_read stack=[pipe_read,vfs_read]"},
      {"HANG-WAIT", "pid=7 tid=8 state=R wchan= stack=[]"},
      {"HANG-PROC", "pid=7 ppid=1 state=S age_cs=250 rss=8192 fds=4 after=0 comm=[my cat]"},
      {"HANG-CWD", "pid=7 /tmp/a dir"},
      {"HANG-CMD", "pid=7 cat - "},
      {"HANG-FILES", "pid=7 0=pipe:[5] 1=/dev/null "},
      {"HANG-PROC", "pid=9 ppid=7 state=S age_cs=1 rss=0 fds=0 after=1 comm=[sh]"},
      {"HANG-END", "frozen=1 total=3"},
  };
  auto report = remote::hang_from_markers(lines, "h");
  REQUIRE(report);
  CHECK(report->frozen);
  CHECK(report->left_out == 1);  // 3 in the cgroup, 2 described
  REQUIRE(report->processes.size() == 2);
  const HungProcess& cat = report->processes[0];
  CHECK(cat.comm == "my cat");
  CHECK(cat.cwd == "/tmp/a dir");
  CHECK(cat.cmdline == "cat -");
  CHECK(cat.age_seconds == doctest::Approx(2.5));
  CHECK(cat.open_files == std::vector<std::string>{"0 pipe:[5]", "1 /dev/null"});
  REQUIRE(cat.threads.size() == 2);
  CHECK(cat.threads[0].stack == std::vector<std::string>{"pipe_read", "vfs_read"});
  CHECK(report->processes[1].after_freeze);
  CHECK(report->note.find("taken on h by the agent") != std::string::npos);
  CHECK_FALSE(remote::hang_from_markers({{"HANG-END", "frozen=0 total=0"}}, "h"));  // no cgroup
  CHECK_FALSE(remote::hang_from_markers({{"HELLO", ""}}, "h"));                     // no answer
}
