// SPDX-License-Identifier: MIT
#include "task_views.hpp"

#include <sstream>

#include "cgspawn/text.hpp"

namespace cgspawn::cli {
namespace {

std::string owner_text(const OwnerRef& owner, bool alive) {
  return std::string(to_string(owner.kind)) + " " + std::to_string(owner.pid) + (alive ? "" : " (gone)");
}

std::string resources_text(const std::vector<ResourceRecord>& resources) {
  std::string out;
  for (const auto& r : resources)
    out += (out.empty() ? "" : ", ") + std::string(to_string(r.resource.kind)) + " " + r.resource.id + " [" +
           std::string(to_string(r.state)) + "]";
  return out.empty() ? "-" : out;
}

}  // namespace

std::string task_line(const TaskSummary& task, bool alive) {
  return task.id + "  " + std::string(to_string(task.state)) + "  " + task.backend + "  owner " +
         owner_text(task.owner, alive) + "  " + resources_text(task.resources);
}

std::string task_text(const TaskRecord& record) {
  std::ostringstream out;
  out << "task " << record.id << " (" << record.backend << "): " << to_string(record.state) << "\n"
      << "  owner      " << owner_text(record.owner, owner_alive(record.owner)) << "\n"
      << "  main pid   " << record.main_pid << "\n"
      << "  resources  " << resources_text(record.resources) << "\n";
  for (const auto& [k, v] : record.labels) out << "  label      " << k << "=" << v << "\n";
  if (record.result) out << "  " << describe(record.result->exit) << "\n";
  return out.str();
}

std::string task_report_text(const TaskReport& report) {
  std::ostringstream out;
  out << "task " << report.id;
  if (report.result) out << ": " << describe(report.result->exit);
  if (!report.note.empty()) out << " (" << report.note << ")";
  out << "\n";
  if (report.result && report.result->hang) out << describe(*report.result->hang);
  out << describe(report.cleanup);
  return out.str();
}

}  // namespace cgspawn::cli
