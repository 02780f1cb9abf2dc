// SPDX-License-Identifier: MIT
// The systemd backend on a host without systemd as PID 1 (these machines): capabilities say
// why, and `--backend systemd` fails at once with that reason (exit 125), running nothing and
// leaving nothing: no record in the ledger, no cgroup, no process.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "case_log.hpp"
#include "cgspawn/cgspawn.hpp"
#include "cli.hpp"
#include "host.hpp"

using namespace cgtest;
using nlohmann::json;

namespace {

constexpr const char* kNoSystemBus = "no system bus: systemd is not PID 1 here";

bool systemd_is_pid1() {
  return exists("/run/systemd/system");
}

std::size_t entries(const std::string& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    if (it->path().filename() != "parents" && it->path().filename().string()[0] != '.')
      ++n;  // not the ledger's own files
  return n;
}

// `cgspawn VERB --backend systemd ... -- touch MARKER`: refused, nothing ran, nothing recorded. Returns
// what it printed, for more checks.
RunResult check_refused(const std::string& verb, std::vector<std::string> backend_args,
                        std::vector<std::string> env, const std::string& reason) {
  TempDir tmp;
  std::string state = tmp.file("state"), marker = tmp.file("ran");
  std::vector<std::string> args = {built_program("CGSPAWN_BIN"), verb, "--backend", "systemd"};
  args.insert(args.end(), backend_args.begin(), backend_args.end());
  for (const auto& a : {std::string("--"), std::string("/usr/bin/touch"), marker}) args.push_back(a);
  env.push_back("CGSPAWN_STATE_DIR=" + state);
  Child child(args, env, {"DBUS_SESSION_BUS_ADDRESS"});
  RunResult r = child.wait(30s);
  CAPTURE(r.err);
  CHECK(r.exit_code == 125);
  CHECK(r.err.find(reason) != std::string::npos);
  CHECK(r.err_lines().size() == 1);  // one line: the reason
  CHECK(r.seconds < 5);
  CHECK_FALSE(exists(marker));
  CHECK(entries(state) == 0);
  return r;
}

// Whether `pid` has a file mapped whose name contains `name` ("libsdbus-c++.so").
bool maps(pid_t pid, const std::string& name) {
  return read_text("/proc/" + std::to_string(pid) + "/maps").value_or("").find("/" + name) !=
         std::string::npos;
}

// Starts `sleep` with `backend_args`, checks whether its supervisor maps the D-Bus module and
// the D-Bus stack (`loaded`), and destroys it.
void check_supervisor_maps(std::vector<std::string> backend_args, bool loaded) {
  TempDir tmp;
  std::string state = tmp.file("state");
  std::vector<std::string> args = {"start", "--state-dir", state, "--id", "maps"};
  args.insert(args.end(), backend_args.begin(), backend_args.end());
  for (const char* a : {"--", "sleep", "600"}) args.push_back(a);
  RunResult r = run_cgspawn(args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json list = json::parse(run_cgspawn({"list", "--json", "--state-dir", state}).out);
  auto supervisor = list.at("tasks").at(0).at("owner").at("pid").get<pid_t>();
  CHECK(maps(supervisor, "cgspawn-supervisor"));  // the maps were read
  // libgcc_s comes only with the module (its libstdc++.so needs it): the programs link their
  // unwinder statically, as libgcc_s's start probes the CPU (tools/meson.build).
  for (const char* library : {"cgspawn-dbus.so", "libsdbus-c++.so", "libsystemd.so", "libgcc_s.so"}) {
    CAPTURE(library);
    CHECK(maps(supervisor, library) == loaded);
  }
  RunResult d = run_cgspawn({"destroy", "maps", "--state-dir", state, "--grace", "0"});
  CHECK_MESSAGE(d.exit_code == 0, d.err);
  CHECK(entries(state) == 0);
}

}  // namespace

// On a host where systemd is PID 1 (the guest) these cases behave otherwise: the guest runs them
// too (the suite differs-on-systemd of the host binary).
TEST_SUITE_BEGIN("differs-on-systemd");

TEST_CASE("systemd absent: run and start --backend systemd fail at once with the reason, exit 125") {
  if (systemd_is_pid1()) return skip_case("systemd is PID 1 here: the guest-systemd suite tests the backend");
  check_refused("run", {}, {}, kNoSystemBus);
  check_refused("start", {}, {}, kNoSystemBus);
}

TEST_CASE("systemd absent: --user without a user bus names both places it looked") {
  TempDir runtime;
  check_refused("run", {"--user"}, {"XDG_RUNTIME_DIR=" + runtime.path()},
                "no user bus: $DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus (" +
                    runtime.path() + "/bus) does not exist");
}

TEST_CASE("systemd absent: --user with a dead session bus address tries $XDG_RUNTIME_DIR/bus too") {
  TempDir runtime;
  std::string dead = "unix:path=" + runtime.file("no-such-socket");
  std::vector<std::string> env = {"DBUS_SESSION_BUS_ADDRESS=" + dead, "XDG_RUNTIME_DIR=" + runtime.path()};
  RunResult r = check_refused("run", {"--user"}, env,
                              "cannot connect to the user bus: $DBUS_SESSION_BUS_ADDRESS (" + dead + "): ");
  CHECK(r.err.find("; $XDG_RUNTIME_DIR/bus (unix:path=" + runtime.path() + "/bus): ") != std::string::npos);
}

TEST_CASE("systemd absent: backends --json says why, for every capability") {
  if (systemd_is_pid1()) return skip_case("systemd is PID 1 here: the guest-systemd suite tests the backend");
  RunResult r = run_cgspawn({"backends", "--json"});
  REQUIRE(r.exit_code == 0);
  const json* systemd = nullptr;
  json j = json::parse(r.out);
  for (const auto& b : j.at("backends"))
    if (b.at("backend") == "systemd") systemd = &b;
  REQUIRE(systemd != nullptr);
  for (const char* key : {"usable", "kill_all", "verify", "survives_caller_crash"}) {
    CAPTURE(key);
    CHECK(systemd->at(key).at("available") == false);
    CHECK(systemd->at(key).at("reason") == kNoSystemBus);
  }
  for (const char* key : {"memory_max", "pids_max", "cpu_max"})
    CHECK(systemd->at("limits").at(key).at("available") == false);
}

TEST_CASE("systemd absent: the library refuses in make_spawner, before anything exists") {
  if (systemd_is_pid1()) return skip_case("systemd is PID 1 here: the guest-systemd suite tests the backend");
  cgspawn::BackendOptions options;
  options.backend = "systemd";
  try {
    (void)cgspawn::make_spawner(options);
    FAIL("make_spawner did not refuse");
  } catch (const cgspawn::Error& e) {
    CHECK(e.kind() == cgspawn::ErrorKind::unsupported);
    CHECK(std::string(e.what()) == kNoSystemBus);
  }
  cgspawn::Capabilities caps = cgspawn::backend_capabilities(options);
  CHECK(caps.backend == "systemd");
  CHECK_FALSE(caps.usable.available);
  CHECK(caps.usable.reason == kNoSystemBus);
  options.unit_type = "timer";
  CHECK_THROWS_AS((void)cgspawn::make_spawner(options), cgspawn::Error);
}

// docs/architecture.md, "the D-Bus module": only a process that talks to systemd loads it.
TEST_CASE("systemd absent: a started task's supervisor maps neither the D-Bus module nor libsystemd") {
  if (systemd_is_pid1())
    return skip_case(
        "systemd is PID 1 here: the process backend's supervisor holds a delegated scope over D-Bus");
  TestParent parent;
  check_supervisor_maps({"--parent", parent.path()}, false);
}

TEST_CASE("systemd present: a systemd task's supervisor has loaded the D-Bus module, which maps sdbus-c++") {
  if (!systemd_is_pid1())
    return skip_case("systemd is not PID 1 here: the systemd-absent cases apply instead");
  check_supervisor_maps({"--backend", "systemd"}, true);
}

TEST_CASE("systemd present: backends --json says the systemd backend is usable, with systemd's version") {
  if (!systemd_is_pid1())
    return skip_case("systemd is not PID 1 here: the systemd-absent cases apply instead");
  RunResult r = run_cgspawn({"backends", "--json"});
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  const json* systemd = nullptr;
  for (const auto& b : j.at("backends"))
    if (b.at("backend") == "systemd") systemd = &b;
  REQUIRE(systemd != nullptr);
  CHECK(systemd->at("usable").at("available") == true);
  CHECK(systemd->at("usable").at("reason").get<std::string>().rfind("systemd ", 0) == 0);
  CHECK(systemd->at("kill_all").at("available") == true);
}

TEST_SUITE_END();
