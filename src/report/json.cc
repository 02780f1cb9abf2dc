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

// A survivor (with_state) also says where it waits in the kernel.
json process_json(const ProcessRef& p, bool with_state) {
  json j = {{"pid", p.pid}, {"comm", p.comm}};
  if (!with_state) return j;
  j["state"] = p.state;
  j["wchan"] = p.wchan;
  j["stack"] = p.stack;
  return j;
}

std::vector<ProcessRef> processes_from(const json& list) {
  std::vector<ProcessRef> out;
  for (const auto& p : list)
    out.push_back({p.at("pid").get<int>(), p.at("comm").get<std::string>(), p.value("state", std::string()),
                   p.value("wchan", std::string()), p.value("stack", std::vector<std::string>())});
  return out;
}

json stalls_json(const std::map<std::string, Stall>& stalls) {
  json j = json::object();
  for (const auto& [resource, stall] : stalls) {
    j[resource] = {{"some_seconds", stall.some_seconds}};
    if (stall.full_seconds) j[resource]["full_seconds"] = *stall.full_seconds;
  }
  return j;
}

std::map<std::string, Stall> stalls_from(const json& j) {
  std::map<std::string, Stall> stalls;
  for (const auto& [resource, stall] : j.items())
    stalls[resource] = {stall.at("some_seconds").get<double>(),
                        optional_from<double>(stall.value("full_seconds", json()))};
  return stalls;
}

// Fields the host may not provide are absent, not zero (docs/cli.md).
json usage_json(const Usage& u) {
  json j = {{"wall_seconds", u.wall_seconds},
            {"cpu_user_seconds", u.cpu_user_seconds},
            {"cpu_system_seconds", u.cpu_system_seconds},
            {"memory_peak_bytes", optional_json(u.memory_peak_bytes)},
            {"oom_kills", optional_json(u.oom_kills)}};
  if (u.cpu_throttled_periods) j["cpu_throttled_periods"] = *u.cpu_throttled_periods;
  if (u.cpu_throttled_seconds) j["cpu_throttled_seconds"] = *u.cpu_throttled_seconds;
  if (!u.pressure.empty()) j["pressure"] = stalls_json(u.pressure);
  if (!u.host_pressure.empty()) j["host_pressure"] = stalls_json(u.host_pressure);
  if (u.starved) j["starved"] = *u.starved;
  return j;
}

Usage usage_from(const json& j) {
  Usage u;
  u.wall_seconds = j.at("wall_seconds").get<double>();
  u.cpu_user_seconds = j.at("cpu_user_seconds").get<double>();
  u.cpu_system_seconds = j.at("cpu_system_seconds").get<double>();
  u.memory_peak_bytes = optional_from<std::uint64_t>(j.at("memory_peak_bytes"));
  u.oom_kills = optional_from<std::uint64_t>(j.at("oom_kills"));
  u.cpu_throttled_periods = optional_from<std::uint64_t>(j.value("cpu_throttled_periods", json()));
  u.cpu_throttled_seconds = optional_from<double>(j.value("cpu_throttled_seconds", json()));
  u.pressure = stalls_from(j.value("pressure", json::object()));
  u.host_pressure = stalls_from(j.value("host_pressure", json::object()));
  u.starved = optional_from<bool>(j.value("starved", json()));
  return u;
}

json hang_json(const HangReport& h) {
  json processes = json::array();
  for (const auto& p : h.processes) {
    json threads = json::array();
    for (const auto& t : p.threads)
      threads.push_back({{"tid", t.tid}, {"wchan", t.wchan}, {"stack", t.stack}});
    processes.push_back({{"pid", p.pid},
                         {"ppid", p.ppid},
                         {"state", p.state},
                         {"comm", p.comm},
                         {"cmdline", p.cmdline},
                         {"cwd", p.cwd},
                         {"age_seconds", p.age_seconds},
                         {"rss_bytes", optional_json(p.rss_bytes)},
                         {"fds", p.fds},
                         {"open_files", p.open_files},
                         {"threads", threads},
                         {"after_freeze", p.after_freeze}});
  }
  return {{"frozen", h.frozen}, {"processes", processes}, {"left_out", h.left_out}, {"note", h.note}};
}

HangReport hang_from(const json& j) {
  HangReport h;
  h.frozen = j.at("frozen").get<bool>();
  h.left_out = j.value("left_out", std::size_t{0});
  h.note = j.value("note", std::string());
  for (const auto& pj : j.at("processes")) {
    HungProcess p;
    p.pid = pj.at("pid").get<int>();
    p.ppid = pj.value("ppid", 0);
    p.state = pj.value("state", std::string());
    p.comm = pj.value("comm", std::string());
    p.cmdline = pj.value("cmdline", std::string());
    p.cwd = pj.value("cwd", std::string());
    p.age_seconds = pj.value("age_seconds", 0.0);
    p.rss_bytes = optional_from<std::uint64_t>(pj.value("rss_bytes", json()));
    p.fds = pj.value("fds", std::size_t{0});
    p.open_files = pj.value("open_files", std::vector<std::string>());
    p.after_freeze = pj.value("after_freeze", false);
    for (const auto& t : pj.value("threads", json::array()))
      p.threads.push_back({t.at("tid").get<int>(), t.value("wchan", std::string()),
                           t.value("stack", std::vector<std::string>())});
    h.processes.push_back(std::move(p));
  }
  return h;
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
  json j = {{"schema", Result::schema},
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
            {"usage", usage_json(r.usage)},
            {"cleanup", report_to_json(r.cleanup)}};
  if (r.hang) j["hang"] = hang_json(*r.hang);
  return j;
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
  r.usage = usage_from(j.at("usage"));
  if (j.contains("hang")) r.hang = hang_from(j.at("hang"));
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
            {"private_ipc", capability_json(c.private_ipc)}}},
          {"hang_report", capability_json(c.hang_report)},
          {"usage", capability_json(c.usage)}};
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
