// SPDX-License-Identifier: MIT
#include "dbus/manager.hpp"

#include <functional>

#include "dbus/connection.hpp"
#include "dbus/jobs.hpp"
#include "dbus/unit_properties_impl.hpp"

namespace cgspawn::dbus {
namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr std::uint64_t kCallTimeoutUsec = 120'000'000;  // a TCG guest under load is slow

}  // namespace

struct Manager::Impl {
  explicit Impl(const BusTarget& target)
      : bus(connect_bus(target)),
        jobs(*bus),
        manager(sdbus::createProxy(*bus, kService, "/org/freedesktop/systemd1")) {
    manager->finishRegistration();
  }

  sdbus::MethodReply call(const std::string& method, const std::function<void(sdbus::MethodCall&)>& args) {
    auto call = manager->createMethodCall(kManager, method);
    args(call);
    return manager->callMethod(call, kCallTimeoutUsec);
  }

  sdbus::Variant property(const std::string& unit, const std::string& interface, const std::string& name) {
    auto proxy = sdbus::createProxy(*bus, kService, sdbus::ObjectPath(unit));
    proxy->finishRegistration();
    return proxy->getProperty(name).onInterface(interface);
  }

  std::unique_ptr<sdbus::IConnection> bus;
  JobWatcher jobs;  // subscribed before the first call
  std::unique_ptr<sdbus::IProxy> manager;
};

Manager::Manager(const BusTarget& target)
    : target_(target), impl_(bus_call([&] { return std::make_unique<Impl>(target); })) {}

Manager::~Manager() = default;

std::string Manager::start_transient(const std::string& name, const UnitProperties& properties) {
  using Aux = std::vector<sdbus::Struct<std::string, std::vector<Property>>>;
  return bus_call([&] {
    auto reply = impl_->call("StartTransientUnit", [&](sdbus::MethodCall& c) {
      c << name << std::string("fail") << properties.impl().list << Aux{};
    });
    sdbus::ObjectPath job;
    reply >> job;
    return std::string(job);
  });
}

void Manager::kill_unit(const std::string& name, const std::string& who, int signal) {
  bus_call([&] {
    impl_->call("KillUnit",
                [&](sdbus::MethodCall& c) { c << name << who << static_cast<std::int32_t>(signal); });
  });
}

std::string Manager::stop_unit(const std::string& name) {
  return bus_call([&] {
    auto reply = impl_->call("StopUnit", [&](sdbus::MethodCall& c) { c << name << std::string("replace"); });
    sdbus::ObjectPath job;
    reply >> job;
    return std::string(job);
  });
}

void Manager::reset_failed(const std::string& name) {
  bus_call([&] { impl_->call("ResetFailedUnit", [&](sdbus::MethodCall& c) { c << name; }); });
}

std::optional<std::string> Manager::get_unit(const std::string& name) {
  try {
    return bus_call([&] {
      auto reply = impl_->call("GetUnit", [&](sdbus::MethodCall& c) { c << name; });
      sdbus::ObjectPath unit;
      reply >> unit;
      return std::string(unit);
    });
  } catch (const BusError& e) {
    if (e.name() == kNoSuchUnit) return std::nullopt;
    throw;
  }
}

std::string Manager::wait_job(const std::string& job, Clock::time_point deadline) {
  return bus_call([&] { return impl_->jobs.wait(job, deadline); });
}

std::vector<Manager::UnitInfo> Manager::list_units(const std::vector<std::string>& patterns) {
  using Row = sdbus::Struct<std::string, std::string, std::string, std::string, std::string, std::string,
                            sdbus::ObjectPath, std::uint32_t, std::string, sdbus::ObjectPath>;
  return bus_call([&] {
    auto reply = impl_->call("ListUnitsByPatterns",
                             [&](sdbus::MethodCall& c) { c << std::vector<std::string>{} << patterns; });
    std::vector<Row> rows;
    reply >> rows;
    std::vector<UnitInfo> units;
    for (const auto& r : rows) units.push_back({r.get<0>(), r.get<1>(), r.get<3>(), r.get<6>()});
    return units;
  });
}

std::string Manager::version() {
  return bus_call(
      [&] { return impl_->manager->getProperty("Version").onInterface(kManager).get<std::string>(); });
}

template <typename T>
T Manager::property(const std::string& path, const std::string& interface, const std::string& name) {
  return bus_call([&] { return impl_->property(path, interface, name).get<T>(); });
}

template std::string Manager::property(const std::string&, const std::string&, const std::string&);
template std::uint64_t Manager::property(const std::string&, const std::string&, const std::string&);
template std::uint32_t Manager::property(const std::string&, const std::string&, const std::string&);
template std::int32_t Manager::property(const std::string&, const std::string&, const std::string&);

std::string Manager::unit_string(const std::string& path, const std::string& name) {
  return property<std::string>(path, "org.freedesktop.systemd1.Unit", name);
}

}  // namespace cgspawn::dbus
