// SPDX-License-Identifier: MIT
// CleanupReport, names, the JSON shapes (schema 1, docs/cli.md) and the text summary.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "cgspawn/cgspawn.hpp"

using namespace cgspawn;
using nlohmann::json;

namespace {

ResourceOutcome row(Outcome outcome) {
  ResourceOutcome r;
  r.resource = {ResourceKind::cgroup, "/sys/fs/cgroup/x/cgspawn-t"};
  r.outcome = outcome;
  return r;
}

Result sample_result() {
  Result r;
  r.id = "t1";
  r.backend = "process";
  r.argv = {"/bin/sh", "-c", "exit 3"};
  r.labels = {{"suite", "unit"}, {"k", "v"}};
  r.exit.code = 3;
  r.exit.reason = ExitReason::exited;
  r.usage.wall_seconds = 1.25;
  r.usage.cpu_user_seconds = 0.5;
  r.usage.cpu_system_seconds = 0.25;
  ResourceOutcome cg = row(Outcome::failed);
  cg.detail = "1 process(es) still in /sys/fs/cgroup/x/cgspawn-t";
  cg.seconds = 0.75;
  cg.killed = {{41, "sh", ""}, {42, "sleep", ""}};
  cg.killed_total = 2;
  cg.survivors = {{43, "sleep", "D"}};
  r.cleanup.resources.push_back(cg);
  return r;
}

void check_process_list(const json& list, bool with_state) {
  REQUIRE(list.is_array());
  for (const auto& p : list) {
    REQUIRE(p.is_object());
    CHECK(p.at("pid").is_number_integer());
    CHECK(p.at("comm").is_string());
    if (with_state) CHECK(p.at("state").is_string());
  }
}

// Every field of the Result schema (docs/cli.md), with its type.
void check_result_schema(const json& j) {
  REQUIRE(j.is_object());
  CHECK(j.at("schema") == 1);
  CHECK(j.at("id").is_string());
  CHECK(j.at("backend").is_string());
  REQUIRE(j.at("argv").is_array());
  for (const auto& a : j.at("argv")) CHECK(a.is_string());
  REQUIRE(j.at("labels").is_object());
  for (const auto& [k, v] : j.at("labels").items()) CHECK(v.is_string());
  const json& exit = j.at("exit");
  CHECK((exit.at("code").is_number_integer() || exit.at("code").is_null()));
  CHECK((exit.at("signal").is_number_integer() || exit.at("signal").is_null()));
  std::string reason = exit.at("reason");
  CHECK((reason == "exited" || reason == "signaled" || reason == "timed-out" || reason == "destroyed"));
  const json& usage = j.at("usage");
  CHECK(usage.at("wall_seconds").is_number());
  CHECK(usage.at("cpu_user_seconds").is_number());
  CHECK(usage.at("cpu_system_seconds").is_number());
  CHECK((usage.at("memory_peak_bytes").is_number_integer() || usage.at("memory_peak_bytes").is_null()));
  CHECK((usage.at("oom_kills").is_number_integer() || usage.at("oom_kills").is_null()));
  const json& cleanup = j.at("cleanup");
  CHECK(cleanup.at("complete").is_boolean());
  REQUIRE(cleanup.at("resources").is_array());
  for (const auto& r : cleanup.at("resources")) {
    CHECK(r.at("kind").is_string());
    CHECK(r.at("id").is_string());
    std::string outcome = r.at("outcome");
    CHECK((outcome == "destroyed" || outcome == "already-gone" || outcome == "kept" ||
           outcome == "not-guaranteed" || outcome == "failed"));
    CHECK(r.at("detail").is_string());
    CHECK(r.at("seconds").is_number());
    check_process_list(r.at("killed"), false);
    check_process_list(r.at("survivors"), true);
  }
}

}  // namespace

TEST_CASE("CleanupReport::complete: only destroyed, already-gone and kept count") {
  CHECK(CleanupReport{}.complete());
  CHECK(CleanupReport{{row(Outcome::destroyed)}}.complete());
  CHECK(CleanupReport{{row(Outcome::already_gone)}}.complete());
  CHECK(CleanupReport{{row(Outcome::kept)}}.complete());
  CHECK(CleanupReport{{row(Outcome::destroyed), row(Outcome::already_gone), row(Outcome::kept)}}.complete());
  CHECK_FALSE(CleanupReport{{row(Outcome::not_guaranteed)}}.complete());
  CHECK_FALSE(CleanupReport{{row(Outcome::failed)}}.complete());
  CHECK_FALSE(CleanupReport{{row(Outcome::destroyed), row(Outcome::failed)}}.complete());
  CHECK_FALSE(CleanupReport{{row(Outcome::not_guaranteed), row(Outcome::destroyed)}}.complete());
}

TEST_CASE("names of outcomes, exit reasons and kinds") {
  CHECK(to_string(Outcome::destroyed) == "destroyed");
  CHECK(to_string(Outcome::already_gone) == "already-gone");
  CHECK(to_string(Outcome::kept) == "kept");
  CHECK(to_string(Outcome::not_guaranteed) == "not-guaranteed");
  CHECK(to_string(Outcome::failed) == "failed");
  CHECK(to_string(ExitReason::exited) == "exited");
  CHECK(to_string(ExitReason::signaled) == "signaled");
  CHECK(to_string(ExitReason::timed_out) == "timed-out");
  CHECK(to_string(ExitReason::destroyed) == "destroyed");
  CHECK(to_string(ResourceKind::cgroup) == "cgroup");
  CHECK(to_string(ResourceKind::process_group) == "process-group");
  CHECK(to_string(ResourceKind::ssh_master) == "ssh-master");
  CHECK(to_string(ResourceKind::escaped_process) == "escaped-process");
  for (auto kind : {ResourceKind::cgroup, ResourceKind::process, ResourceKind::process_group,
                    ResourceKind::scope, ResourceKind::service, ResourceKind::container, ResourceKind::conmon,
                    ResourceKind::ssh_master, ResourceKind::remote_unit, ResourceKind::remote_cgroup,
                    ResourceKind::directory, ResourceKind::escaped_process, ResourceKind::ipc})
    CHECK(parse_resource_kind(to_string(kind)) == kind);
  CHECK_FALSE(parse_resource_kind("bogus").has_value());
}

TEST_CASE("to_json(Result): the schema of issue 2, every field and type") {
  Result r = sample_result();
  json j = json::parse(to_json(r));
  check_result_schema(j);
  CHECK(j["id"] == "t1");
  CHECK(j["backend"] == "process");
  CHECK(j["argv"] == json({"/bin/sh", "-c", "exit 3"}));
  CHECK(j["labels"] == json({{"suite", "unit"}, {"k", "v"}}));
  CHECK(j["exit"]["code"] == 3);
  CHECK(j["exit"]["signal"].is_null());
  CHECK(j["exit"]["reason"] == "exited");
  CHECK(j["usage"]["wall_seconds"] == 1.25);
  CHECK(j["usage"]["cpu_user_seconds"] == 0.5);
  CHECK(j["usage"]["cpu_system_seconds"] == 0.25);
  CHECK(j["usage"]["memory_peak_bytes"].is_null());
  CHECK(j["usage"]["oom_kills"].is_null());
  CHECK(j["cleanup"]["complete"] == false);
  const json& cg = j["cleanup"]["resources"].at(0);
  CHECK(cg["kind"] == "cgroup");
  CHECK(cg["id"] == "/sys/fs/cgroup/x/cgspawn-t");
  CHECK(cg["outcome"] == "failed");
  CHECK(cg["seconds"] == 0.75);
  CHECK(cg["killed"] == json::parse(R"([{"pid":41,"comm":"sh"},{"pid":42,"comm":"sleep"}])"));
  CHECK(cg["killed_total"] == 2);
  CHECK(cg["survivors"] == json::parse(R"([{"pid":43,"comm":"sleep","state":"D","wchan":"","stack":[]}])"));
}

TEST_CASE("to_json(Result): signal, memory figures, complete report, empty lists") {
  Result r;
  r.id = "t2";
  r.backend = "process";
  r.argv = {"sleep", "1"};
  r.exit.signal = 15;
  r.exit.reason = ExitReason::timed_out;
  r.usage.memory_peak_bytes = 123456;
  r.usage.oom_kills = 0;
  r.cleanup.resources.push_back(row(Outcome::destroyed));
  json j = json::parse(to_json(r, -1));
  check_result_schema(j);
  CHECK(j["exit"]["code"].is_null());
  CHECK(j["exit"]["signal"] == 15);
  CHECK(j["exit"]["reason"] == "timed-out");
  CHECK(j["usage"]["memory_peak_bytes"] == 123456);
  CHECK(j["usage"]["oom_kills"] == 0);
  CHECK(j["labels"].is_object());
  CHECK(j["labels"].empty());
  CHECK(j["cleanup"]["complete"] == true);
  CHECK(j["cleanup"]["resources"][0]["killed"] == json::array());
  CHECK(j["cleanup"]["resources"][0]["survivors"] == json::array());
}

TEST_CASE("to_json: a comm that is not UTF-8 does not throw") {
  Result r = sample_result();
  r.cleanup.resources[0].killed[0].comm = "bad\xff\xfe";
  std::string text;
  CHECK_NOTHROW(text = to_json(r));
  CHECK_NOTHROW(json::parse(text));
}

TEST_CASE("to_json(CleanupReport) and to_json(Capabilities)") {
  CleanupReport report{{row(Outcome::destroyed), row(Outcome::not_guaranteed)}};
  json rj = json::parse(to_json(report));
  CHECK(rj["complete"] == false);
  CHECK(rj["resources"].size() == 2);
  CHECK(rj["resources"][1]["outcome"] == "not-guaranteed");

  Capabilities c;
  c.backend = "process";
  c.usable = {true, "task cgroups under /x"};
  c.kill_all = {true, "cgroup.kill"};
  c.verify = {true, "populated 0"};
  c.survives_caller_crash = {false, "no record"};
  c.memory_max = {false,
                  "the memory controller is bound to the cgroup v1 hierarchy at /sys/fs/cgroup/memory"};
  c.pids_max = {true, "pids"};
  c.cpu_max = {false, "not delegated"};
  json j = json::parse(to_json(c));
  CHECK(j["backend"] == "process");
  for (const char* key : {"usable", "kill_all", "verify", "survives_caller_crash"}) {
    CAPTURE(key);
    CHECK(j.at(key).at("available").is_boolean());
    CHECK(j.at(key).at("reason").is_string());
  }
  for (const char* key : {"memory_max", "pids_max", "cpu_max"}) {
    CAPTURE(key);
    CHECK(j.at("limits").at(key).at("available").is_boolean());
    CHECK(j.at("limits").at(key).at("reason").is_string());
  }
  CHECK(j["limits"]["memory_max"]["available"] == false);
  CHECK(j["limits"]["pids_max"]["available"] == true);
  CHECK(j["survives_caller_crash"]["reason"] == "no record");
}

TEST_CASE("describe: the human summary shows the report, killed and survivors") {
  Result r = sample_result();
  std::string text = describe(r);
  CHECK(text.find("task t1 (process)") != std::string::npos);
  CHECK(text.find("exited with exit code 3") != std::string::npos);
  CHECK(text.find("NOT complete") != std::string::npos);
  CHECK(text.find("failed") != std::string::npos);
  CHECK(text.find("killed sh[41] sleep[42]") != std::string::npos);
  CHECK(text.find("SURVIVORS sleep[43](D)") != std::string::npos);

  r.cleanup.resources[0] = row(Outcome::destroyed);
  CHECK(describe(r.cleanup).find("cleanup complete") != std::string::npos);

  ExitStatus signaled;
  signaled.signal = 9;
  signaled.reason = ExitReason::signaled;
  CHECK(describe(signaled) == "died of signal 9");
}
