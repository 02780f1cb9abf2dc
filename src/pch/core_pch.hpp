// SPDX-License-Identifier: MIT
// Precompiled for every source of the library: the headers most of them include, parsed once
// per build instead of once per file (the clean build is what every change and CI run pays).
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cgspawn/cgspawn.hpp"
