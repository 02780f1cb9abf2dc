// SPDX-License-Identifier: MIT
// The module's calls over sdbus-c++ (ModuleCalls), and its entry points (dbus/module.hpp).
#include <functional>

#include "cgspawn/version.hpp"
#include "dbus/bus_error.hpp"
#include "dbus/module.hpp"
#include "dbus/sdbus/connection.hpp"
#include "dbus/sdbus/jobs.hpp"
#include "dbus/sdbus/marshal.hpp"

namespace cgspawn::dbus {
namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr std::uint64_t kCallTimeoutUsec = 120'000'000;  // a TCG guest under load is slow

class SdbusManager final : public ModuleCalls {
 public:
  explicit SdbusManager(const BusTarget& target)
      : bus_(connect_bus(target)),
        jobs_(*bus_),
        manager_(sdbus::createProxy(*bus_, kService, "/org/freedesktop/systemd1")) {
    manager_->finishRegistration();
  }

  std::string start_transient(const std::string& name, const UnitProperties& properties,
                              ModuleError& error) noexcept override {
    using Aux = std::vector<sdbus::Struct<std::string, std::vector<SdbusProperty>>>;
    return guarded(error, [&] {
      jobs_.listen();
      auto reply = call("StartTransientUnit", [&](sdbus::MethodCall& c) {
        c << name << std::string("fail") << marshal(properties) << Aux{};
      });
      return object_path(reply);
    });
  }

  void kill_unit(const std::string& name, const std::string& who, int signal,
                 ModuleError& error) noexcept override {
    guarded(error, [&] {
      call("KillUnit", [&](sdbus::MethodCall& c) { c << name << who << static_cast<std::int32_t>(signal); });
    });
  }

  std::string stop_unit(const std::string& name, ModuleError& error) noexcept override {
    return guarded(error, [&] {
      jobs_.listen();
      return object_path(
          call("StopUnit", [&](sdbus::MethodCall& c) { c << name << std::string("replace"); }));
    });
  }

  void reset_failed(const std::string& name, ModuleError& error) noexcept override {
    guarded(error, [&] { call("ResetFailedUnit", [&](sdbus::MethodCall& c) { c << name; }); });
  }

  std::optional<std::string> get_unit(const std::string& name, ModuleError& error) noexcept override {
    return guarded(error, [&]() -> std::optional<std::string> {
      try {
        return object_path(call("GetUnit", [&](sdbus::MethodCall& c) { c << name; }));
      } catch (const sdbus::Error& e) {
        if (e.getName() == kNoSuchUnit) return std::nullopt;
        throw;
      }
    });
  }

  std::string version(ModuleError& error) noexcept override {
    return guarded(error,
                   [&] { return manager_->getProperty("Version").onInterface(kManager).get<std::string>(); });
  }

  std::string wait_job(const std::string& job, Clock::time_point deadline,
                       ModuleError& error) noexcept override {
    return guarded(error, [&] { return jobs_.wait(job, deadline); });
  }

  std::vector<UnitInfo> list_units(const std::vector<std::string>& patterns,
                                   ModuleError& error) noexcept override {
    using Row = sdbus::Struct<std::string, std::string, std::string, std::string, std::string, std::string,
                              sdbus::ObjectPath, std::uint32_t, std::string, sdbus::ObjectPath>;
    return guarded(error, [&] {
      auto reply = call("ListUnitsByPatterns",
                        [&](sdbus::MethodCall& c) { c << std::vector<std::string>{} << patterns; });
      std::vector<Row> rows;
      reply >> rows;
      std::vector<UnitInfo> units;
      for (const auto& r : rows) units.push_back({r.get<0>(), r.get<1>(), r.get<3>(), r.get<6>()});
      return units;
    });
  }

  PropertyReading read_property(const std::string& path, const std::string& interface,
                                const std::string& name, ModuleError& error) noexcept override {
    return guarded(error, [&]() -> PropertyReading {
      auto proxy = sdbus::createProxy(*bus_, kService, sdbus::ObjectPath(path));
      proxy->finishRegistration();
      sdbus::Variant value = proxy->getProperty(name).onInterface(interface);
      std::string type = value.peekValueType();
      if (type == "t") return value.get<std::uint64_t>();
      if (type == "u") return value.get<std::uint32_t>();
      if (type == "i") return value.get<std::int32_t>();
      return value.get<std::string>();  // "s"; another type throws sdbus::Error
    });
  }

 private:
  sdbus::MethodReply call(const std::string& method, const std::function<void(sdbus::MethodCall&)>& args) {
    auto call = manager_->createMethodCall(kManager, method);
    args(call);
    return manager_->callMethod(call, kCallTimeoutUsec);
  }

  static std::string object_path(sdbus::MethodReply reply) {
    sdbus::ObjectPath path;
    reply >> path;
    return std::string(path);
  }

  std::unique_ptr<sdbus::IConnection> bus_;
  JobWatcher jobs_;  // JobRemoved matched from each job's call to the end of its wait
  std::unique_ptr<sdbus::IProxy> manager_;
};

}  // namespace
}  // namespace cgspawn::dbus

// The module's entry points (dbus/module.hpp): the only symbols it exports.
extern "C" __attribute__((visibility("default"))) const char* cgspawn_dbus_version() {
  return cgspawn::version;
}

extern "C" __attribute__((visibility("default"))) cgspawn::dbus::ModuleCalls* cgspawn_dbus_connect(
    const cgspawn::dbus::BusTarget& target, cgspawn::dbus::ModuleError& error) {
  using namespace cgspawn::dbus;
  return guarded(error, [&]() -> ModuleCalls* { return new SdbusManager(target); });
}
