// SPDX-License-Identifier: MIT
// A CLI verb: its CLI11 subcommand and what runs once the command line is parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace cgspawn::cli {

struct Verb {
  CLI::App* command;
  std::function<int()> run;
};

}  // namespace cgspawn::cli
