// SPDX-License-Identifier: MIT
#include "dbus/sdbus/connection.hpp"

namespace cgspawn::dbus {
namespace {

// The first place that connects; else Error(unsupported) naming every place and its failure.
std::unique_ptr<sdbus::IConnection> connect_user_bus(const BusTarget& target) {
  std::string tried;
  for (const BusPlace& place : user_bus_places(target)) {
    tried += tried.empty() ? "" : "; ";
    if (place.address.empty()) {
      tried += place.unset;
      continue;
    }
    try {
      return sdbus::createSessionBusConnectionWithAddress(place.address);
    } catch (const sdbus::Error& e) {
      tried += place.name + " (" + place.address + "): " + describe(e);
    }
  }
  throw Error(ErrorKind::unsupported, "cannot connect to the user bus: " + tried + kUserManagerHint);
}

}  // namespace

std::unique_ptr<sdbus::IConnection> connect_bus(const BusTarget& target) {
  if (target.user) return connect_user_bus(target);
  try {
    return sdbus::createSystemBusConnection();
  } catch (const sdbus::Error& e) {
    throw Error(ErrorKind::unsupported, "cannot connect to the system bus: " + describe(e));
  }
}

std::string describe(const sdbus::Error& error) {
  if (error.getMessage().empty()) return error.getName();
  return error.getName() + ": " + error.getMessage();
}

}  // namespace cgspawn::dbus
