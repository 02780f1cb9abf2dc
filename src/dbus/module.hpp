// SPDX-License-Identifier: MIT
// The D-Bus module, cgspawn-dbus.so: Manager's implementation over sdbus-c++, in a shared object
// of its own that Manager::connect loads with dlopen. A process that never talks to systemd
// (the process, podman and remote backends, list, status...) maps neither sdbus-c++ nor
// libsystemd. The module and the programs are built together; the version check refuses a
// module of another build of cgspawn (a partial upgrade) instead of calling into it.
#pragma once

namespace cgspawn::dbus {

class Manager;
struct BusTarget;

// Found by the dynamic loader on the RUNPATH of the object that loads it: the build tree's src/
// for programs in the build tree, <libdir>/cgspawn once installed.
inline constexpr const char* kModuleFile = "cgspawn-dbus.so";

// extern "C" entry points of the module.
inline constexpr const char* kModuleVersionSymbol = "cgspawn_dbus_version";
inline constexpr const char* kModuleConnectSymbol = "cgspawn_dbus_connect";
using ModuleVersion = const char* (*)();
// Throws what Manager::connect throws; never returns null.
using ModuleConnect = Manager* (*)(const BusTarget& target);

}  // namespace cgspawn::dbus
