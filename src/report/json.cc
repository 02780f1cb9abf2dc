// JSON of the public types, schema 1 (docs/cli.md).
#include "cgspawn/json.hpp"

#include <nlohmann/json.hpp>

namespace cgspawn {
namespace {

using nlohmann::json;

template <typename T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json process_json(const ProcessRef& p, bool with_state) {
  json j = {{"pid", p.pid}, {"comm", p.comm}};
  if (with_state) j["state"] = p.state;
  return j;
}

json row_json(const ResourceOutcome& row) {
  json killed = json::array(), survivors = json::array();
  for (const auto& p : row.killed) killed.push_back(process_json(p, false));
  for (const auto& p : row.survivors) survivors.push_back(process_json(p, true));
  return {{"kind", row.resource.kind}, {"id", row.resource.id},
          {"outcome", std::string(to_string(row.outcome))}, {"detail", row.detail},
          {"seconds", row.seconds}, {"killed", killed}, {"killed_total", row.killed_total},
          {"survivors", survivors}};
}

json report_json(const CleanupReport& report) {
  json rows = json::array();
  for (const auto& row : report.resources) rows.push_back(row_json(row));
  return {{"complete", report.complete()}, {"resources", rows}};
}

json capability_json(const Capability& c) { return {{"available", c.available}, {"reason", c.reason}}; }

std::string dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string to_json(const Result& r, int indent) {
  json j = {{"schema", Result::schema},
            {"id", r.id},
            {"backend", r.backend},
            {"argv", r.argv},
            {"labels", r.labels},
            {"exit", {{"code", optional_json(r.exit.code)}, {"signal", optional_json(r.exit.signal)},
                      {"reason", std::string(to_string(r.exit.reason))}}},
            {"usage", {{"wall_seconds", r.usage.wall_seconds}, {"cpu_user_seconds", r.usage.cpu_user_seconds},
                       {"cpu_system_seconds", r.usage.cpu_system_seconds},
                       {"memory_peak_bytes", optional_json(r.usage.memory_peak_bytes)},
                       {"oom_kills", optional_json(r.usage.oom_kills)}}},
            {"cleanup", report_json(r.cleanup)}};
  return dump(j, indent);
}

std::string to_json(const CleanupReport& report, int indent) { return dump(report_json(report), indent); }

std::string to_json(const Capabilities& c, int indent) {
  json j = {{"backend", c.backend},
            {"usable", capability_json(c.usable)},
            {"kill_all", capability_json(c.kill_all)},
            {"verify", capability_json(c.verify)},
            {"survives_caller_crash", capability_json(c.survives_caller_crash)},
            {"limits", {{"memory_max", capability_json(c.memory_max)},
                        {"pids_max", capability_json(c.pids_max)},
                        {"cpu_max", capability_json(c.cpu_max)}}}};
  return dump(j, indent);
}

}  // namespace cgspawn
