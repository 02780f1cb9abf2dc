// SPDX-License-Identifier: MIT
#include "backends/remote/cgspawn_reports.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "report/json_codec.hpp"

namespace cgspawn::remote {
namespace {

constexpr std::size_t kKilledCap = 100;  // as the local backends cap `killed`

std::optional<CleanupReport> cleanup_of(const Marker& m, std::string& problem) {
  try {
    auto j = nlohmann::json::parse(m.text);
    return report_from_json(j.at("cleanup"));
  } catch (const std::exception& e) {
    problem += "; its " + m.word + " could not be read (" + e.what() + ")";
    return std::nullopt;
  }
}

bool listed(const std::vector<ProcessRef>& list, int pid) {
  return std::any_of(list.begin(), list.end(), [pid](const ProcessRef& p) { return p.pid == pid; });
}

// A destroy that came while `cgspawn run` was ending: both name the same processes, once here.
void add_rows(ResourceOutcome& row, const CleanupReport& report, const std::string& source) {
  for (const auto& r : report.resources) {
    size_t fresh = 0;
    for (const auto& p : r.killed) {
      if (listed(row.killed, p.pid)) continue;
      ++fresh;
      if (row.killed.size() < kKilledCap) row.killed.push_back(p);
    }
    row.killed_total += fresh + (r.killed_total - std::min(r.killed_total, r.killed.size()));
    row.survivors.insert(row.survivors.end(), r.survivors.begin(), r.survivors.end());
    // The row's own cgroup is not named again.
    bool same = row.resource.id.size() >= r.resource.id.size() &&
                row.resource.id.compare(row.resource.id.size() - r.resource.id.size(), r.resource.id.size(),
                                        r.resource.id) == 0;
    row.detail += "; " + source + ": " + std::string(to_string(r.resource.kind)) +
                  (same ? "" : " " + r.resource.id) + " " + std::string(to_string(r.outcome)) +
                  (r.detail.empty() ? "" : " (" + r.detail + ")");
  }
}

}  // namespace

void fold_cgspawn_reports(ResourceOutcome& row, const std::vector<Marker>& markers) {
  std::string problem;
  for (const auto& m : markers) {
    std::string source = m.word == "DESTROY-REPORT" ? "its `cgspawn destroy`"
                         : m.word == "LEASE-REPORT" ? "its `cgspawn destroy` by the lease"
                         : m.word == "RUN-RESULT"   ? "its `cgspawn run` when the task ended"
                                                    : "";
    if (source.empty()) continue;
    if (auto report = cleanup_of(m, problem)) add_rows(row, *report, source);
  }
  row.detail += problem;
}

std::optional<Capabilities> remote_process_capabilities(const std::string& backends_json) {
  try {
    auto j = nlohmann::json::parse(backends_json);
    for (const auto& b : j.at("backends")) {
      if (b.at("backend") != "process") continue;
      auto cap = [&b](const nlohmann::json& c) {
        return Capability{c.at("available").get<bool>(), c.at("reason").get<std::string>()};
      };
      Capabilities caps;
      caps.backend = "process";
      caps.usable = cap(b.at("usable"));
      caps.memory_max = cap(b.at("limits").at("memory_max"));
      caps.pids_max = cap(b.at("limits").at("pids_max"));
      caps.cpu_max = cap(b.at("limits").at("cpu_max"));
      return caps;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace cgspawn::remote
