// SPDX-License-Identifier: MIT
// The bus a systemd manager is reached on (the system manager's, or the calling user's).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace cgspawn::dbus {

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

}  // namespace cgspawn::dbus
