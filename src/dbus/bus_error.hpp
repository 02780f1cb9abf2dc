// SPDX-License-Identifier: MIT
// D-Bus errors as cgspawn::Error. The D-Bus module returns every sdbus::Error by its name and
// message (dbus/module.hpp) and Manager throws it as a BusError, so nothing above it sees
// sdbus: the message keeps
// the error's name, which is what a user searches for
// ("org.freedesktop.systemd1.UnitExists: Unit x.scope already exists."), and name() lets a
// caller act on it.
#pragma once

#include <string>

#include "cgspawn/error.hpp"

namespace cgspawn::dbus {

class BusError : public Error {
 public:
  BusError(std::string name, const std::string& message)
      : Error(ErrorKind::system, message.empty() ? name : name + ": " + message), name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// The same error with what cgspawn was doing in front: "<doing>: <name>: <message>".
inline Error in_context(const std::string& doing, const Error& error) {
  return Error(error.kind(), doing + ": " + error.what());
}

inline constexpr const char* kNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit";
inline constexpr const char* kUnitExists = "org.freedesktop.systemd1.UnitExists";

}  // namespace cgspawn::dbus
