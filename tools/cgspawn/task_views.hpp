// How the ledger's records and reports are shown: text for people, JSON (schema 1) for programs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cgspawn/ledger.hpp"

namespace cgspawn::cli {

nlohmann::json task_json(const TaskRecord& record);  // the record, plus "owner_alive"
std::string task_line(const TaskRecord& record);     // one line for `list`
std::string task_text(const TaskRecord& record);     // several lines for `status`

nlohmann::json task_report_json(const TaskReport& report);
std::string task_report_text(const TaskReport& report);

}  // namespace cgspawn::cli
