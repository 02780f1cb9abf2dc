// SPDX-License-Identifier: MIT
#include "task_views.hpp"

#include <sstream>

#include "cgspawn/text.hpp"

namespace cgspawn::cli {
namespace {

std::string owner_text(const OwnerRef& owner) {
  return std::string(to_string(owner.kind)) + " " + std::to_string(owner.pid) +
         (owner_alive(owner) ? "" : " (gone)");
}

std::string resources_text(const TaskRecord& record) {
  std::string out;
  for (const auto& r : record.resources)
    out += (out.empty() ? "" : ", ") + std::string(to_string(r.resource.kind)) + " " + r.resource.id + " [" +
           std::string(to_string(r.state)) + "]";
  return out.empty() ? "-" : out;
}

}  // namespace

std::string task_line(const TaskRecord& record) {
  std::ostringstream out;
  out << record.id << "  " << to_string(record.state) << "  " << record.backend << "  owner "
      << owner_text(record.owner) << "  " << resources_text(record);
  return out.str();
}

std::string task_text(const TaskRecord& record) {
  std::ostringstream out;
  out << "task " << record.id << " (" << record.backend << "): " << to_string(record.state) << "\n"
      << "  owner      " << owner_text(record.owner) << "\n"
      << "  main pid   " << record.main_pid << "\n"
      << "  resources  " << resources_text(record) << "\n";
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
