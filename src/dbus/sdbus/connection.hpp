// SPDX-License-Identifier: MIT
// Inside the D-Bus module only: the sdbus-c++ connection, and the one place where sdbus::Error
// becomes cgspawn's BusError. Only src/dbus/sdbus/ includes this.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <memory>
#include <string>

#include "dbus/bus.hpp"
#include "dbus/bus_error.hpp"

namespace cgspawn::dbus {

// Throws Error(unsupported) naming the address(es) tried when the bus does not answer.
std::unique_ptr<sdbus::IConnection> connect_bus(const BusTarget& target);

// "org.freedesktop.systemd1.NoSuchUnit: Unit x.scope not loaded."
std::string describe(const sdbus::Error& error);

inline BusError translated(const sdbus::Error& error) {
  return BusError(error.getName(), error.getMessage());
}

// Runs `call`, throwing BusError for an sdbus::Error.
template <typename F>
auto bus_call(F&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const sdbus::Error& e) {
    throw translated(e);
  }
}

}  // namespace cgspawn::dbus
