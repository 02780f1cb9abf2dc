// cgspawn-* units of the caller's systemd manager that no record of a ledger names: a record
// can be lost, and the manager's unit list is then the second source of truth (as the cgroup
// tree under the ledger's parents is for the process backend).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "backends/systemd/bus.hpp"
#include "backends/systemd/manager.hpp"
#include "backends/systemd/systemd_backend.hpp"
#include "backends/systemd/unit_properties.hpp"
#include "cgspawn/parse.hpp"

namespace cgspawn {
namespace {

// "cgspawn-<id>.scope" -> "<id>", or "" when the name is not of that shape.
std::string task_id_of(const std::string& unit) {
  auto dot = unit.rfind('.');
  std::string prefix = systemd::kUnitPrefix;
  if (dot == std::string::npos || unit.rfind(prefix, 0) != 0) return "";
  std::string id = unit.substr(prefix.size(), dot - prefix.size());
  return valid_task_id(id) ? id : "";
}

bool recorded(const Ledger& ledger, const std::string& id) {
  try {
    return ledger.read(id).has_value();
  } catch (const Error&) {
    return true;  // a corrupt record is listed as corrupt, not its unit as an orphan
  }
}

}  // namespace

std::vector<Orphan> find_orphan_units(const Ledger& ledger) {
  std::vector<Orphan> orphans;
  systemd::BusLookup bus = systemd::find_bus(::geteuid() != 0);
  if (!bus.unavailable.empty()) return orphans;  // no manager here: no units to look at
  try {
    systemd::Manager manager(bus.target);
    std::string prefix = systemd::kUnitPrefix;
    for (const auto& unit : manager.list_units({prefix + "*.scope", prefix + "*.service"})) {
      std::string id = task_id_of(unit.name);
      if (id.empty() || recorded(ledger, id)) continue;
      std::string mark = systemd::ledger_of_description(unit.description);
      if (!mark.empty() && mark != ledger.dir()) continue;  // another ledger's task
      std::string kind = unit.name.substr(unit.name.rfind('.') + 1);
      ResourceRecord res{kind, unit.name, "created", {}};
      res.attributes["bus"] = bus.target.user ? "user" : "system";
      res.attributes["uid"] = std::to_string(bus.target.uid);
      orphans.push_back({res, mark == ledger.dir()});
    }
  } catch (const std::exception& e) {
    spdlog::warn("cannot list cgspawn-* units of the {} manager: {}", bus.target.user ? "user" : "system", e.what());
  }
  return orphans;
}

}  // namespace cgspawn
