// SPDX-License-Identifier: MIT
// `cgspawn run`: run a program in a cgroup of its own, wait, destroy what is left, verify.
#pragma once

#include "verb.hpp"

namespace cgspawn::cli {

Verb add_run_command(CLI::App& app);

}  // namespace cgspawn::cli
