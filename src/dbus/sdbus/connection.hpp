// SPDX-License-Identifier: MIT
// Inside the D-Bus module only: the sdbus-c++ connection, and the one place where an exception
// (sdbus::Error above all) becomes the ModuleError its caller gets. Only src/dbus/sdbus/
// includes this.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <memory>
#include <string>

#include "dbus/bus.hpp"
#include "dbus/module.hpp"

namespace cgspawn::dbus {

// Throws Error(unsupported) naming the address(es) tried when the bus does not answer.
std::unique_ptr<sdbus::IConnection> connect_bus(const BusTarget& target);

// "org.freedesktop.systemd1.NoSuchUnit: Unit x.scope not loaded."
std::string describe(const sdbus::Error& error);

// Runs `call` and returns what it returns. Whatever it throws is described in `error`, and an
// empty value returned: no exception leaves the module (dbus/module.hpp).
template <typename F>
auto guarded(ModuleError& error, F&& call) noexcept -> decltype(call()) {
  try {
    return call();
  } catch (const sdbus::Error& e) {
    error = {true, ErrorKind::system, e.getName(), e.getMessage()};
  } catch (const Error& e) {
    error = {true, e.kind(), "", e.what()};
  } catch (const std::exception& e) {
    error = {true, ErrorKind::system, "", e.what()};
  } catch (...) {
    error = {true, ErrorKind::system, "", "the D-Bus module failed without saying why"};
  }
  return decltype(call())();
}

}  // namespace cgspawn::dbus
