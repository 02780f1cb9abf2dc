// SPDX-License-Identifier: MIT
// JSON of the public types, schema 1 (docs/cli.md).
#include "cgspawn/json.hpp"

#include "report/json_codec.hpp"
#include "report/names.hpp"

namespace cgspawn {
namespace {

using nlohmann::json;

template <typename T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

template <typename T>
std::optional<T> optional_from(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<T>();
}

json process_json(const ProcessRef& p, bool with_state) {
  json j = {{"pid", p.pid}, {"comm", p.comm}};
  if (with_state) j["state"] = p.state;
  return j;
}

std::vector<ProcessRef> processes_from(const json& list) {
  std::vector<ProcessRef> out;
  for (const auto& p : list)
    out.push_back({p.at("pid").get<int>(), p.at("comm").get<std::string>(), p.value("state", std::string())});
  return out;
}

json row_json(const ResourceOutcome& row) {
  json killed = json::array(), survivors = json::array();
  for (const auto& p : row.killed) killed.push_back(process_json(p, false));
  for (const auto& p : row.survivors) survivors.push_back(process_json(p, true));
  return {{"kind", to_string(row.resource.kind)},
          {"id", row.resource.id},
          {"outcome", std::string(to_string(row.outcome))},
          {"detail", row.detail},
          {"seconds", row.seconds},
          {"killed", killed},
          {"killed_total", row.killed_total},
          {"survivors", survivors}};
}

ResourceOutcome row_from(const json& j) {
  ResourceOutcome row;
  row.resource = {enum_named(j.at("kind"), parse_resource_kind, "resource kind"),
                  j.at("id").get<std::string>()};
  row.outcome = enum_named(j.at("outcome"), parse_outcome, "outcome");
  row.detail = j.at("detail").get<std::string>();
  row.seconds = j.at("seconds").get<double>();
  row.killed = processes_from(j.at("killed"));
  row.killed_total = j.value("killed_total", row.killed.size());
  row.survivors = processes_from(j.at("survivors"));
  return row;
}

json capability_json(const Capability& c) {
  return {{"available", c.available}, {"reason", c.reason}};
}

}  // namespace

std::string dump_json(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

json report_to_json(const CleanupReport& report) {
  json rows = json::array();
  for (const auto& row : report.resources) rows.push_back(row_json(row));
  return {{"complete", report.complete()},
          {"resources", rows},
          {"notes", report.notes},
          {"leftovers", report.leftovers},
          {"fail_on_leftovers", report.fail_on_leftovers}};
}

CleanupReport report_from_json(const json& j) {
  CleanupReport report;
  for (const auto& row : j.at("resources")) report.resources.push_back(row_from(row));
  report.notes = j.value("notes", std::vector<std::string>());
  report.leftovers = j.value("leftovers", std::size_t{0});
  report.fail_on_leftovers = j.value("fail_on_leftovers", false);
  return report;
}

json result_to_json(const Result& r) {
  return {{"schema", Result::schema},
          {"id", r.id},
          {"backend", r.backend},
          {"argv", r.argv},
          {"labels", r.labels},
          {"main_pid", r.main_pid},
          {"exit",
           {{"code", optional_json(r.exit.code)},
            {"signal", optional_json(r.exit.signal)},
            {"reason", std::string(to_string(r.exit.reason))},
            {"cause", std::string(to_string(r.exit.cause))}}},
          {"usage",
           {{"wall_seconds", r.usage.wall_seconds},
            {"cpu_user_seconds", r.usage.cpu_user_seconds},
            {"cpu_system_seconds", r.usage.cpu_system_seconds},
            {"memory_peak_bytes", optional_json(r.usage.memory_peak_bytes)},
            {"oom_kills", optional_json(r.usage.oom_kills)}}},
          {"cleanup", report_to_json(r.cleanup)}};
}

Result result_from_json(const json& j) {
  Result r;
  identity_from(j, r);
  r.main_pid = j.value("main_pid", 0);
  const json& exit = j.at("exit");
  r.exit = {optional_from<int>(exit.at("code")), optional_from<int>(exit.at("signal")),
            enum_named(exit.at("reason"), parse_exit_reason, "exit reason"), ExitCause::exited};
  // A Result written before the cause existed has none: its reason says as much.
  if (exit.contains("cause"))
    r.exit.cause = enum_named(exit.at("cause"), parse_exit_cause, "exit cause");
  else
    r.exit.cause = cause_of_reason(r.exit.reason);
  const json& usage = j.at("usage");
  r.usage = {usage.at("wall_seconds").get<double>(), usage.at("cpu_user_seconds").get<double>(),
             usage.at("cpu_system_seconds").get<double>(),
             optional_from<std::uint64_t>(usage.at("memory_peak_bytes")),
             optional_from<std::uint64_t>(usage.at("oom_kills"))};
  r.cleanup = report_from_json(j.at("cleanup"));
  return r;
}

json capabilities_to_json(const Capabilities& c) {
  return {{"backend", c.backend},
          {"usable", capability_json(c.usable)},
          {"kill_all", capability_json(c.kill_all)},
          {"verify", capability_json(c.verify)},
          {"survives_caller_crash", capability_json(c.survives_caller_crash)},
          {"lineage", capability_json(c.lineage)},
          {"limits",
           {{"memory_max", capability_json(c.memory_max)},
            {"pids_max", capability_json(c.pids_max)},
            {"cpu_max", capability_json(c.cpu_max)}}},
          {"storage",
           {{"scratch", capability_json(c.scratch)},
            {"private_tmp", capability_json(c.private_tmp)},
            {"private_ipc", capability_json(c.private_ipc)}}}};
}

std::string to_json(const Result& result, int indent) {
  return dump_json(result_to_json(result), indent);
}
std::string to_json(const CleanupReport& report, int indent) {
  return dump_json(report_to_json(report), indent);
}
std::string to_json(const Capabilities& c, int indent) {
  return dump_json(capabilities_to_json(c), indent);
}

}  // namespace cgspawn
