// SPDX-License-Identifier: MIT
// How the ledger's records and reports are shown to people (their JSON forms are the
// library's: cgspawn/json.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cgspawn/ledger.hpp"
#include "cgspawn/recorded_tasks.hpp"

namespace cgspawn::cli {

// One line for `list`. `alive`: whether its owner lives (one check per owner, by the caller:
// many tasks share one, such as a runner's).
std::string task_line(const TaskSummary& task, bool alive);
std::string task_text(const TaskRecord& record);  // several lines for `status`
std::string task_report_text(const TaskReport& report);

}  // namespace cgspawn::cli
