// SPDX-License-Identifier: MIT
// `cgspawn start`: start a task detached, owned by its supervisor; print its id.
#pragma once

#include "verb.hpp"

namespace cgspawn::cli {

Verb add_start_command(CLI::App& app);

}  // namespace cgspawn::cli
