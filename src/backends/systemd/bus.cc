#include "backends/systemd/bus.hpp"

#include <unistd.h>

#include <cstdlib>

namespace cgspawn::systemd {
namespace {

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

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
                       " (is the user's systemd manager running? loginctl enable-linger)";
  return lookup;
}

BusTarget recorded_bus(bool user, uid_t uid) {
  if (!user) return BusTarget{};
  BusLookup lookup = find_bus(true);
  if (lookup.unavailable.empty() && uid == ::geteuid()) return lookup.target;
  return BusTarget{true, uid, "unix:path=/run/user/" + std::to_string(uid) + "/bus"};
}

std::unique_ptr<sdbus::IConnection> connect_bus(const BusTarget& target) {
  try {
    if (!target.user) return sdbus::createSystemBusConnection();
    return sdbus::createSessionBusConnectionWithAddress(target.address);
  } catch (const sdbus::Error& e) {
    if (!target.user) throw Error(ErrorKind::unsupported, "cannot connect to the system bus: " + describe(e));
    std::string tried = env("DBUS_SESSION_BUS_ADDRESS").empty()
                            ? "$XDG_RUNTIME_DIR/bus (" + target.address + ")"
                            : "$DBUS_SESSION_BUS_ADDRESS (" + target.address + ")";
    throw Error(ErrorKind::unsupported, "cannot connect to the user bus at " + tried + ": " + describe(e));
  }
}

std::string describe(const sdbus::Error& error) {
  if (error.getMessage().empty()) return error.getName();
  return error.getName() + ": " + error.getMessage();
}

Error translate(const std::string& doing, const sdbus::Error& error) {
  return Error(ErrorKind::system, doing + ": " + describe(error));
}

}  // namespace cgspawn::systemd
