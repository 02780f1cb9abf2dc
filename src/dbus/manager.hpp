// SPDX-License-Identifier: MIT
// The systemd manager's D-Bus methods cgspawn uses, over one connection. Every method throws
// BusError (a cgspawn::Error that keeps the D-Bus error's name) where the call fails, and
// object paths are plain strings. The implementation lives in the D-Bus module (src/dbus/sdbus/,
// cgspawn-dbus.so), loaded by the first connect(): only a process that talks to systemd maps
// sdbus-c++ and libsystemd (they were ~4 ms of every cgspawn process's start).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dbus/bus.hpp"
#include "dbus/bus_error.hpp"
#include "dbus/unit_properties.hpp"
#include "util/deadline.hpp"

namespace cgspawn::dbus {

class Manager {
 public:
  // Loads the D-Bus module (once per process) and connects. Throws Error(unsupported) when the
  // module cannot be loaded or the bus does not answer, naming which.
  static std::unique_ptr<Manager> connect(const BusTarget& target);

  virtual ~Manager() = default;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  const BusTarget& target() const { return target_; }

  // Mode "fail": an existing unit of that name is an error (UnitExists), never replaced.
  // Returns the start job. JobRemoved is matched from the connection on, so a job that
  // completes before this returns is never missed (as systemd-run does).
  virtual std::string start_transient(const std::string& name, const UnitProperties& properties) = 0;
  virtual void kill_unit(const std::string& name, const std::string& who, int signal) = 0;
  virtual std::string stop_unit(const std::string& name) = 0;  // the stop job
  virtual void reset_failed(const std::string& name) = 0;
  // nullopt when the unit is not loaded (NoSuchUnit).
  virtual std::optional<std::string> get_unit(const std::string& name) = 0;
  virtual std::string version() = 0;

  // The job's result ("done", "failed", "canceled", "timeout", "dependency", "skipped") once
  // systemd has removed it. Throws Error(system) at the deadline.
  virtual std::string wait_job(const std::string& job, Clock::time_point deadline) = 0;

  struct UnitInfo {
    std::string name, description, active_state, path;
  };
  // Loaded units whose names match one of `patterns` (shell globs), in any state.
  virtual std::vector<UnitInfo> list_units(const std::vector<std::string>& patterns) = 0;

  // A property's value as its D-Bus type gives it ("s", "t", "u", "i").
  using PropertyReading = std::variant<std::string, std::uint64_t, std::uint32_t, std::int32_t>;
  virtual PropertyReading read_property(const std::string& path, const std::string& interface,
                                        const std::string& name) = 0;

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

 protected:
  explicit Manager(BusTarget target) : target_(std::move(target)) {}

 private:
  BusTarget target_;
};

}  // namespace cgspawn::dbus
