#include "backends/systemd/manager.hpp"

namespace cgspawn::systemd {
namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr std::uint64_t kCallTimeoutUsec = 120'000'000;  // a TCG guest under load is slow

}  // namespace

Manager::Manager(const BusTarget& target)
    : target_(target),
      bus_(connect_bus(target)),
      jobs_(*bus_),
      manager_(sdbus::createProxy(*bus_, kService, "/org/freedesktop/systemd1")) {
  manager_->finishRegistration();
}

sdbus::MethodReply Manager::call(const std::string& method, const std::function<void(sdbus::MethodCall&)>& args) {
  auto call = manager_->createMethodCall(kManager, method);
  args(call);
  return manager_->callMethod(call, kCallTimeoutUsec);
}

sdbus::ObjectPath Manager::start_transient(const std::string& name, const std::vector<Property>& properties) {
  using Aux = std::vector<sdbus::Struct<std::string, std::vector<Property>>>;
  auto reply = call("StartTransientUnit", [&](sdbus::MethodCall& c) {
    c << name << std::string("fail") << properties << Aux{};
  });
  sdbus::ObjectPath job;
  reply >> job;
  return job;
}

void Manager::kill_unit(const std::string& name, const std::string& who, int signal) {
  call("KillUnit", [&](sdbus::MethodCall& c) { c << name << who << static_cast<std::int32_t>(signal); });
}

sdbus::ObjectPath Manager::stop_unit(const std::string& name) {
  auto reply = call("StopUnit", [&](sdbus::MethodCall& c) { c << name << std::string("replace"); });
  sdbus::ObjectPath job;
  reply >> job;
  return job;
}

void Manager::reset_failed(const std::string& name) {
  call("ResetFailedUnit", [&](sdbus::MethodCall& c) { c << name; });
}

std::optional<sdbus::ObjectPath> Manager::get_unit(const std::string& name) {
  try {
    auto reply = call("GetUnit", [&](sdbus::MethodCall& c) { c << name; });
    sdbus::ObjectPath unit;
    reply >> unit;
    return unit;
  } catch (const sdbus::Error& e) {
    if (e.getName() == kNoSuchUnit) return std::nullopt;
    throw;
  }
}

std::vector<Manager::UnitInfo> Manager::list_units(const std::vector<std::string>& patterns) {
  using Row = sdbus::Struct<std::string, std::string, std::string, std::string, std::string, std::string,
                            sdbus::ObjectPath, std::uint32_t, std::string, sdbus::ObjectPath>;
  auto reply = call("ListUnitsByPatterns", [&](sdbus::MethodCall& c) { c << std::vector<std::string>{} << patterns; });
  std::vector<Row> rows;
  reply >> rows;
  std::vector<UnitInfo> units;
  for (const auto& r : rows) units.push_back({r.get<0>(), r.get<1>(), r.get<3>(), r.get<6>()});
  return units;
}

std::string Manager::version() {
  return manager_->getProperty("Version").onInterface(kManager).get<std::string>();
}

sdbus::Variant Manager::property(const sdbus::ObjectPath& unit, const std::string& interface,
                                 const std::string& name) {
  auto proxy = sdbus::createProxy(*bus_, kService, unit);
  proxy->finishRegistration();
  return proxy->getProperty(name).onInterface(interface);
}

std::string Manager::unit_string(const sdbus::ObjectPath& unit, const std::string& name) {
  return property(unit, "org.freedesktop.systemd1.Unit", name).get<std::string>();
}

}  // namespace cgspawn::systemd
