// SPDX-License-Identifier: MIT
// The systemd manager's D-Bus methods cgspawn uses, over one connection. Every method throws
// BusError (a cgspawn::Error that keeps the D-Bus error's name) where the call fails, and
// object paths are plain strings. The calls are made by the D-Bus module (src/dbus/sdbus/,
// cgspawn-dbus.so), loaded by the first connect(): only a process that talks to systemd maps
// sdbus-c++ and libsystemd (they were ~4 ms of every cgspawn process's start). The module
// returns its failures (dbus/module.hpp); Manager throws them here, on the caller's side.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dbus/bus.hpp"
#include "dbus/bus_error.hpp"
#include "dbus/module.hpp"
#include "dbus/unit_properties.hpp"
#include "util/deadline.hpp"

namespace cgspawn::dbus {

class Manager {
 public:
  // Loads the D-Bus module (once per process) and connects. Throws Error(unsupported) when the
  // module cannot be loaded or the bus does not answer, naming which.
  static std::unique_ptr<Manager> connect(const BusTarget& target);

  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  const BusTarget& target() const { return target_; }

  // Mode "fail": an existing unit of that name is an error (UnitExists), never replaced.
  // Returns the start job. JobRemoved is matched before the call (here and in stop_unit) until
  // wait_job is over, so a job that completes before the call returns is never missed (as
  // systemd-run does), and no other job's end is sent to this connection while it waits for none.
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

  using UnitInfo = dbus::UnitInfo;
  // Loaded units whose names match one of `patterns` (shell globs), in any state.
  std::vector<UnitInfo> list_units(const std::vector<std::string>& patterns);

  using PropertyReading = dbus::PropertyReading;
  PropertyReading read_property(const std::string& path, const std::string& interface,
                                const std::string& name);

  // A property of the unit at `path`, on `interface` ("org.freedesktop.systemd1.Service", ...):
  // T is std::string, std::uint64_t, std::uint32_t or std::int32_t. Throws Error(system) when
  // systemd gives another type.
  template <typename T>
  T property(const std::string& path, const std::string& interface, const std::string& name) {
    PropertyReading reading = read_property(path, interface, name);
    if (const T* value = std::get_if<T>(&reading)) return *value;
    throw Error(ErrorKind::system,
                "systemd's " + interface + "." + name + " of " + path + " has an unexpected type");
  }
  // On org.freedesktop.systemd1.Unit.
  std::string unit_string(const std::string& path, const std::string& name) {
    return property<std::string>(path, "org.freedesktop.systemd1.Unit", name);
  }

 private:
  Manager(BusTarget target, std::unique_ptr<ModuleCalls> calls)
      : target_(std::move(target)), calls_(std::move(calls)) {}

  BusTarget target_;
  std::unique_ptr<ModuleCalls> calls_;
};

}  // namespace cgspawn::dbus
