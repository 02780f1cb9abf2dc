// SPDX-License-Identifier: MIT
// Short human-readable forms of the public types (what the CLI prints to stderr).
#pragma once

#include <string>

#include "cgspawn/capabilities.hpp"
#include "cgspawn/result.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

std::string describe(const ExitStatus& exit);
std::string describe(const CleanupReport& report);
// The hang report as a process tree (like `ps -ejH`), bounded, with each one's kernel waits.
std::string describe(const HangReport& hang);
std::string describe(const Result& result);
std::string describe(const Capabilities& capabilities);

}  // namespace cgspawn

#pragma GCC visibility pop
