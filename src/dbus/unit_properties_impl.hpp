// SPDX-License-Identifier: MIT
// Inside the D-Bus client: what a UnitProperties holds, as StartTransientUnit takes it.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <string>
#include <vector>

#include "dbus/unit_properties.hpp"

namespace cgspawn::dbus {

using Property = sdbus::Struct<std::string, sdbus::Variant>;

struct UnitProperties::Impl {
  std::vector<Property> list;
};

}  // namespace cgspawn::dbus
