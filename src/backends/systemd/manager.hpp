// The systemd manager's D-Bus methods cgspawn uses, over one connection. Methods throw
// sdbus::Error (callers translate it, or act on its name).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "backends/systemd/bus.hpp"
#include "backends/systemd/jobs.hpp"

namespace cgspawn::systemd {

using Property = sdbus::Struct<std::string, sdbus::Variant>;

class Manager {
 public:
  explicit Manager(const BusTarget& target);  // connects; throws Error(unsupported)

  const BusTarget& target() const { return target_; }
  JobWatcher& jobs() { return jobs_; }

  // Mode "fail": an existing unit of that name is an error (UnitExists), never replaced.
  sdbus::ObjectPath start_transient(const std::string& name, const std::vector<Property>& properties);
  void kill_unit(const std::string& name, const std::string& who, int signal);
  sdbus::ObjectPath stop_unit(const std::string& name);
  void reset_failed(const std::string& name);
  // nullopt when the unit is not loaded (NoSuchUnit).
  std::optional<sdbus::ObjectPath> get_unit(const std::string& name);
  std::string version();

  struct UnitInfo {
    std::string name, description, active_state;
    sdbus::ObjectPath path;
  };
  // Loaded units whose names match one of `patterns` (shell globs), in any state.
  std::vector<UnitInfo> list_units(const std::vector<std::string>& patterns);

  sdbus::Variant property(const sdbus::ObjectPath& unit, const std::string& interface, const std::string& name);
  std::string unit_string(const sdbus::ObjectPath& unit, const std::string& name);  // org.freedesktop.systemd1.Unit

 private:
  sdbus::MethodReply call(const std::string& method, const std::function<void(sdbus::MethodCall&)>& args);

  BusTarget target_;
  std::unique_ptr<sdbus::IConnection> bus_;
  JobWatcher jobs_;  // subscribed before the first call
  std::unique_ptr<sdbus::IProxy> manager_;
};

}  // namespace cgspawn::systemd
