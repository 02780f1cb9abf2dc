// SPDX-License-Identifier: MIT
// cgspawn-* units of the caller's systemd manager that no record of a ledger names: a record
// can be lost, and the manager's unit list is then the second source of truth (as the cgroup
// tree under the ledger's parents is for the process backend).
#include <unistd.h>

#include "backends/backend_rows.hpp"
#include "backends/orphans.hpp"
#include "cgspawn/parse.hpp"
#include "dbus/bus.hpp"
#include "dbus/manager.hpp"
#include "dbus/unit_properties.hpp"
#include "util/logger.hpp"

namespace cgspawn {
namespace {

// "cgspawn-<id>.scope" -> "<id>", or "" when the name is not of that shape.
std::string task_id_of(const std::string& unit) {
  auto dot = unit.rfind('.');
  std::string prefix = dbus::kUnitPrefix;
  if (dot == std::string::npos || unit.rfind(prefix, 0) != 0) return "";
  std::string id = unit.substr(prefix.size(), dot - prefix.size());
  return valid_task_id(id) ? id : "";
}

}  // namespace

std::vector<Orphan> find_orphan_units(const Ledger& ledger) {
  std::vector<Orphan> orphans;
  dbus::BusLookup bus = dbus::find_bus(::geteuid() != 0);
  if (!bus.unavailable.empty()) return orphans;  // no manager here: no units to look at
  try {
    auto manager = dbus::Manager::connect(bus.target);
    std::string prefix = dbus::kUnitPrefix;
    for (const auto& unit : manager->list_units({prefix + "*.scope", prefix + "*.service"})) {
      std::string id = task_id_of(unit.name);
      if (id.empty() || has_record(ledger, id)) continue;
      std::string mark = dbus::ledger_of_description(unit.description);
      if (!mark.empty() && mark != ledger.dir()) continue;  // another ledger's task
      ResourceKind kind = unit.name.ends_with(".service") ? ResourceKind::service : ResourceKind::scope;
      ResourceRecord res{{kind, unit.name}, ResourceState::created, {}};
      res.attributes["bus"] = bus.target.user ? "user" : "system";
      res.attributes["uid"] = std::to_string(bus.target.uid);
      orphans.push_back({res, mark == ledger.dir()});
    }
  } catch (const std::exception& e) {
    logger().warn("cannot list cgspawn-* units of the {} manager: {}", bus.target.user ? "user" : "system",
                  e.what());
  }
  return orphans;
}

}  // namespace cgspawn
