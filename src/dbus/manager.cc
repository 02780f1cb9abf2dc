// SPDX-License-Identifier: MIT
// Manager::connect: loads the D-Bus module once per process (dbus/module.hpp).
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

}  // namespace

std::unique_ptr<Manager> Manager::connect(const BusTarget& target) {
  static std::mutex mutex;
  static ModuleConnect connect = nullptr;
  {
    std::lock_guard lock(mutex);
    if (!connect) connect = load_module();  // a failure is tried again by the next caller
  }
  return std::unique_ptr<Manager>(connect(target));
}

}  // namespace cgspawn::dbus
