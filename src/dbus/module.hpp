// SPDX-License-Identifier: MIT
// The D-Bus module, cgspawn-dbus.so: the systemd manager's methods over sdbus-c++, in a shared
// object of its own that Manager::connect loads with dlopen. A process that never talks to
// systemd (the process, podman and remote backends, list, status...) maps neither sdbus-c++ nor
// libsystemd. The module and the programs are built together; the version check refuses a
// module of another build of cgspawn (a partial upgrade) instead of calling into it.
//
// No exception crosses between the module and its caller: the programs link libgcc's unwinder
// statically (tools/meson.build), the module uses the shared libgcc_s that its libstdc++.so
// needs, and each unwinder can unwind only what it threw. Every call returns its failure in a
// ModuleError instead, which Manager throws again on the caller's side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cgspawn/error.hpp"
#include "dbus/unit_properties.hpp"
#include "util/deadline.hpp"

namespace cgspawn::dbus {

struct BusTarget;

// Found by the dynamic loader on the RUNPATH of the object that loads it: the build tree's src/
// for programs in the build tree, <libdir>/cgspawn once installed.
inline constexpr const char* kModuleFile = "cgspawn-dbus.so";

// What a call into the module failed with. `bus_name` is the D-Bus error's name
// ("org.freedesktop.systemd1.NoSuchUnit"), empty for a failure of another kind.
struct ModuleError {
  bool failed = false;
  ErrorKind kind = ErrorKind::system;
  std::string bus_name;
  std::string message;
};

struct UnitInfo {
  std::string name, description, active_state, path;
};

// A property's value as its D-Bus type gives it ("s", "t", "u", "i").
using PropertyReading = std::variant<std::string, std::uint64_t, std::uint32_t, std::int32_t>;

// The module's side of Manager (dbus/manager.hpp says what each call does). On failure a call
// fills `error` and returns an empty value; it never throws.
class ModuleCalls {
 public:
  virtual ~ModuleCalls() = default;
  virtual std::string start_transient(const std::string& name, const UnitProperties& properties,
                                      ModuleError& error) noexcept = 0;
  virtual void kill_unit(const std::string& name, const std::string& who, int signal,
                         ModuleError& error) noexcept = 0;
  virtual std::string stop_unit(const std::string& name, ModuleError& error) noexcept = 0;
  virtual void reset_failed(const std::string& name, ModuleError& error) noexcept = 0;
  virtual std::optional<std::string> get_unit(const std::string& name, ModuleError& error) noexcept = 0;
  virtual std::string version(ModuleError& error) noexcept = 0;
  virtual std::string wait_job(const std::string& job, Clock::time_point deadline,
                               ModuleError& error) noexcept = 0;
  virtual std::vector<UnitInfo> list_units(const std::vector<std::string>& patterns,
                                           ModuleError& error) noexcept = 0;
  virtual PropertyReading read_property(const std::string& path, const std::string& interface,
                                        const std::string& name, ModuleError& error) noexcept = 0;
};

// extern "C" entry points of the module.
inline constexpr const char* kModuleVersionSymbol = "cgspawn_dbus_version";
inline constexpr const char* kModuleConnectSymbol = "cgspawn_dbus_connect";
using ModuleVersion = const char* (*)();
// Null, with `error` filled, when the bus does not answer.
using ModuleConnect = ModuleCalls* (*)(const BusTarget& target, ModuleError& error);

}  // namespace cgspawn::dbus
