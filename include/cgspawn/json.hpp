// JSON forms of the public types (schema 1, documented in docs/cli.md).
#pragma once

#include <string>

#include "cgspawn/capabilities.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn {

std::string to_json(const Result& result, int indent = 2);
std::string to_json(const CleanupReport& report, int indent = 2);
std::string to_json(const Capabilities& capabilities, int indent = 2);

}  // namespace cgspawn
