// SPDX-License-Identifier: MIT
// `cgspawn list`: every task and every resource not yet verified gone.
#pragma once

#include "verb.hpp"

namespace cgspawn::cli {

Verb add_list_command(CLI::App& app);

}  // namespace cgspawn::cli
