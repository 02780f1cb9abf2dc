// SPDX-License-Identifier: MIT
// JSON of destroy and reap reports (schema 1, docs/cli.md).
#include "cgspawn/json.hpp"
#include "report/json_codec.hpp"

namespace cgspawn {
namespace {

using nlohmann::json;

json task_report_json(const TaskReport& report) {
  return {{"schema", 1},
          {"id", report.id},
          {"note", report.note},
          {"cleanup", report_to_json(report.cleanup)},
          {"result", report.result ? result_to_json(*report.result) : json(nullptr)}};
}

}  // namespace

std::string to_json(const TaskReport& report, int indent) {
  return dump_json(task_report_json(report), indent);
}

std::string to_json(const ReapReport& report, int indent) {
  json tasks = json::array();
  for (const auto& t : report.tasks) tasks.push_back(task_report_json(t));
  return dump_json({{"schema", 1},
                    {"complete", report.complete()},
                    {"tasks", tasks},
                    {"orphans", report_to_json(report.orphans)},
                    {"corrupt", report.corrupt}},
                   indent);
}

}  // namespace cgspawn
