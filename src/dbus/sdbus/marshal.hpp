// SPDX-License-Identifier: MIT
// Inside the D-Bus module: a unit's properties as StartTransientUnit takes them, a(sv).
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <string>
#include <vector>

#include "dbus/unit_properties.hpp"

namespace cgspawn::dbus {

using SdbusProperty = sdbus::Struct<std::string, sdbus::Variant>;

std::vector<SdbusProperty> marshal(const UnitProperties& properties);

}  // namespace cgspawn::dbus
