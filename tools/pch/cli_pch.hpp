// SPDX-License-Identifier: MIT
// Precompiled for every source of the CLI: CLI11 (header-only, the bulk of each verb's compile
// time), nlohmann::json and the public API.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cgspawn/cgspawn.hpp"
