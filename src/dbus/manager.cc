// SPDX-License-Identifier: MIT
// Manager: loads the D-Bus module once per process and throws what its calls return (dbus/module.hpp).
#include "dbus/manager.hpp"

#include <dlfcn.h>

#include <cstring>
#include <mutex>

#include "cgspawn/version.hpp"
#include "dbus/module.hpp"

namespace cgspawn::dbus {
namespace {

Error unloadable(const std::string& why) {
  return Error(ErrorKind::unsupported, std::string("cannot load cgspawn's D-Bus module ") + kModuleFile +
                                           " (the systemd backend needs it): " + why);
}

// The module stays loaded for the life of the process: its code runs in every Manager.
ModuleConnect load_module() {
  void* module = ::dlopen(kModuleFile, RTLD_NOW | RTLD_LOCAL);
  if (!module) throw unloadable(::dlerror());
  auto version = reinterpret_cast<ModuleVersion>(::dlsym(module, kModuleVersionSymbol));
  auto connect = reinterpret_cast<ModuleConnect>(::dlsym(module, kModuleConnectSymbol));
  if (!version || !connect) throw unloadable(std::string("it lacks ") + kModuleConnectSymbol);
  if (std::strcmp(version(), cgspawn::version) != 0)
    throw unloadable(std::string("it is of cgspawn ") + version() + ", this is " + cgspawn::version);
  return connect;
}

// The module's failure, thrown on this side: a D-Bus error stays a BusError by its name.
void throw_if_failed(const ModuleError& error) {
  if (!error.failed) return;
  if (!error.bus_name.empty()) throw BusError(error.bus_name, error.message);
  throw Error(error.kind, error.message);
}

template <typename T>
T checked(T value, const ModuleError& error) {
  throw_if_failed(error);
  return value;
}

}  // namespace

std::unique_ptr<Manager> Manager::connect(const BusTarget& target) {
  static std::mutex mutex;
  static ModuleConnect connect = nullptr;
  {
    std::lock_guard lock(mutex);
    if (!connect) connect = load_module();  // a failure is tried again by the next caller
  }
  ModuleError error;
  std::unique_ptr<ModuleCalls> calls(connect(target, error));
  throw_if_failed(error);
  if (!calls) throw unloadable("its connect returned nothing");
  return std::unique_ptr<Manager>(new Manager(target, std::move(calls)));
}

std::string Manager::start_transient(const std::string& name, const UnitProperties& properties) {
  ModuleError error;
  return checked(calls_->start_transient(name, properties, error), error);
}

void Manager::kill_unit(const std::string& name, const std::string& who, int signal) {
  ModuleError error;
  calls_->kill_unit(name, who, signal, error);
  throw_if_failed(error);
}

std::string Manager::stop_unit(const std::string& name) {
  ModuleError error;
  return checked(calls_->stop_unit(name, error), error);
}

void Manager::reset_failed(const std::string& name) {
  ModuleError error;
  calls_->reset_failed(name, error);
  throw_if_failed(error);
}

std::optional<std::string> Manager::get_unit(const std::string& name) {
  ModuleError error;
  return checked(calls_->get_unit(name, error), error);
}

std::string Manager::version() {
  ModuleError error;
  return checked(calls_->version(error), error);
}

std::string Manager::wait_job(const std::string& job, Clock::time_point deadline) {
  ModuleError error;
  return checked(calls_->wait_job(job, deadline, error), error);
}

std::vector<UnitInfo> Manager::list_units(const std::vector<std::string>& patterns) {
  ModuleError error;
  return checked(calls_->list_units(patterns, error), error);
}

PropertyReading Manager::read_property(const std::string& path, const std::string& interface,
                                       const std::string& name) {
  ModuleError error;
  return checked(calls_->read_property(path, interface, name, error), error);
}

}  // namespace cgspawn::dbus
