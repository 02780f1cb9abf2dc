// SPDX-License-Identifier: MIT
// The bus a systemd manager is reached on (the system manager's, or the calling user's).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

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

// A place the user bus is looked for: how an error names it, and the address it gives.
struct BusPlace {
  std::string name;     // "$XDG_RUNTIME_DIR/bus"
  std::string address;  // "" when the variable is not set
  std::string unset;    // what to say then
};

// Where a connection to `target`'s user bus is tried, in order: $DBUS_SESSION_BUS_ADDRESS,
// then $XDG_RUNTIME_DIR/bus (a set but dead session address must not hide a live bus in the
// runtime dir); a target from neither (a recorded unit's manager at /run/user/UID/bus) is the
// only place.
std::vector<BusPlace> user_bus_places(const BusTarget& target);

// Ends every "no user bus" error.
inline constexpr const char* kUserManagerHint =
    " (is the user's systemd manager running? loginctl enable-linger)";

}  // namespace cgspawn::dbus
