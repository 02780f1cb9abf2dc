// SPDX-License-Identifier: MIT
// `cgspawn status ID`: one task's record.
#pragma once

#include "verb.hpp"

namespace cgspawn::cli {

Verb add_status_command(CLI::App& app);

}  // namespace cgspawn::cli
