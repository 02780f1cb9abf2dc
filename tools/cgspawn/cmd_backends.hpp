// SPDX-License-Identifier: MIT
// `cgspawn backends`: each backend's Capabilities on this host.
#pragma once

#include "verb.hpp"

namespace cgspawn::cli {

Verb add_backends_command(CLI::App& app);

}  // namespace cgspawn::cli
