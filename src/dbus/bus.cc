// SPDX-License-Identifier: MIT
#include "dbus/bus.hpp"

#include <unistd.h>

#include <cstdlib>

namespace cgspawn::dbus {
namespace {

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

BusLookup find_bus(bool user) {
  BusLookup lookup;
  lookup.target.user = user;
  lookup.target.uid = ::geteuid();
  if (!user) {
    // Without systemd as PID 1 there is no manager to talk to, whatever bus may exist.
    if (!exists("/run/systemd/system")) lookup.unavailable = "no system bus: systemd is not PID 1 here";
    return lookup;
  }
  if (std::string address = env("DBUS_SESSION_BUS_ADDRESS"); !address.empty()) {
    lookup.target.address = address;
    return lookup;
  }
  std::string runtime = env("XDG_RUNTIME_DIR");
  if (!runtime.empty() && exists(runtime + "/bus")) {
    lookup.target.address = "unix:path=" + runtime + "/bus";
    return lookup;
  }
  lookup.unavailable = "no user bus: $DBUS_SESSION_BUS_ADDRESS is unset and " +
                       (runtime.empty() ? std::string("$XDG_RUNTIME_DIR is unset")
                                        : "$XDG_RUNTIME_DIR/bus (" + runtime + "/bus) does not exist") +
                       kUserManagerHint;
  return lookup;
}

BusTarget recorded_bus(bool user, uid_t uid) {
  if (!user) return BusTarget{};
  BusLookup lookup = find_bus(true);
  if (lookup.unavailable.empty() && uid == ::geteuid()) return lookup.target;
  return BusTarget{true, uid, "unix:path=/run/user/" + std::to_string(uid) + "/bus"};
}

std::vector<BusPlace> user_bus_places(const BusTarget& target) {
  std::string session = env("DBUS_SESSION_BUS_ADDRESS"), runtime = env("XDG_RUNTIME_DIR");
  std::string derived = runtime.empty() ? "" : "unix:path=" + runtime + "/bus";
  if (target.address != session && target.address != derived)
    return {{"the user bus of uid " + std::to_string(target.uid), target.address, ""}};
  return {{"$DBUS_SESSION_BUS_ADDRESS", session, "$DBUS_SESSION_BUS_ADDRESS is not set"},
          {"$XDG_RUNTIME_DIR/bus", derived, "$XDG_RUNTIME_DIR is not set"}};
}

}  // namespace cgspawn::dbus
