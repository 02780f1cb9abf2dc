// SPDX-License-Identifier: MIT
// The systemd manager's D-Bus methods cgspawn uses, over one connection. Every method throws
// BusError (a cgspawn::Error that keeps the D-Bus error's name) where the call fails, and
// object paths are plain strings: nothing of sdbus-c++ shows above the D-Bus client.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dbus/bus.hpp"
#include "dbus/bus_error.hpp"
#include "util/deadline.hpp"

namespace cgspawn::dbus {

class UnitProperties;

class Manager {
 public:
  explicit Manager(const BusTarget& target);  // connects; throws Error(unsupported)
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  const BusTarget& target() const { return target_; }

  // Mode "fail": an existing unit of that name is an error (UnitExists), never replaced.
  // Returns the start job. JobRemoved is matched from the constructor on, so a job that
  // completes before this returns is never missed (as systemd-run does).
  std::string start_transient(const std::string& name, const UnitProperties& properties);
  void kill_unit(const std::string& name, const std::string& who, int signal);
  std::string stop_unit(const std::string& name);  // the stop job
  void reset_failed(const std::string& name);
  // nullopt when the unit is not loaded (NoSuchUnit).
  std::optional<std::string> get_unit(const std::string& name);
  std::string version();

  // The job's result ("done", "failed", "canceled", "timeout", "dependency", "skipped") once
  // systemd has removed it. Throws Error(system) at the deadline.
  std::string wait_job(const std::string& job, Clock::time_point deadline);

  struct UnitInfo {
    std::string name, description, active_state, path;
  };
  // Loaded units whose names match one of `patterns` (shell globs), in any state.
  std::vector<UnitInfo> list_units(const std::vector<std::string>& patterns);

  // A property of the unit at `path`, on `interface` ("org.freedesktop.systemd1.Service", ...):
  // T is std::string, std::uint64_t, std::uint32_t or std::int32_t.
  template <typename T>
  T property(const std::string& path, const std::string& interface, const std::string& name);
  // On org.freedesktop.systemd1.Unit.
  std::string unit_string(const std::string& path, const std::string& name);

 private:
  struct Impl;
  BusTarget target_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cgspawn::dbus
