// The bus a systemd task is started on (the system manager's, or the calling user's manager),
// and the translation of D-Bus errors into cgspawn::Error with the error's own name.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

#include "cgspawn/error.hpp"

namespace cgspawn::systemd {

struct BusTarget {
  bool user = false;    // the user manager (systemd-run --user) instead of the system manager
  uid_t uid = 0;        // whose manager, for the ledger record
  std::string address;  // the user bus's address; empty for the system bus
};

struct BusLookup {
  BusTarget target;
  std::string unavailable;  // why the bus cannot be used here; empty when it can
};

// Finds the bus from files and the environment only (no connection: side-effect free).
// System: systemd must be PID 1 (/run/systemd/system, as sd_booted() checks).
// User: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus.
BusLookup find_bus(bool user);

// For a recorded unit: the bus of `uid`'s manager (the user bus at /run/user/UID/bus when
// $XDG_RUNTIME_DIR does not name one).
BusTarget recorded_bus(bool user, uid_t uid);

// Throws Error(unsupported) naming the address(es) tried when the bus does not answer.
std::unique_ptr<sdbus::IConnection> connect_bus(const BusTarget& target);

// "org.freedesktop.systemd1.NoSuchUnit: Unit x.scope not loaded." -- the name is what a user
// searches for, so it is never dropped.
std::string describe(const sdbus::Error& error);

// Error(system) "<doing>: <name>: <message>".
Error translate(const std::string& doing, const sdbus::Error& error);

inline constexpr const char* kNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit";
inline constexpr const char* kUnitExists = "org.freedesktop.systemd1.UnitExists";

}  // namespace cgspawn::systemd
