// SPDX-License-Identifier: MIT
// How the ledger's records and reports are shown to people (their JSON forms are the
// library's: cgspawn/json.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cgspawn/ledger.hpp"
#include "cgspawn/recorded_tasks.hpp"

namespace cgspawn::cli {

std::string task_line(const TaskRecord& record);  // one line for `list`
std::string task_text(const TaskRecord& record);  // several lines for `status`
std::string task_report_text(const TaskReport& report);

}  // namespace cgspawn::cli
