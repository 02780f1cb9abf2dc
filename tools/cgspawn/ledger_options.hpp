// SPDX-License-Identifier: MIT
// The --state-dir option shared by the verbs that use the ledger.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cgspawn/ledger.hpp"

namespace cgspawn::cli {

void add_state_dir_option(CLI::App& app, std::string& state_dir);

// The ledger at `state_dir`, or at the default place (docs/cli.md). Throws cgspawn::Error.
std::shared_ptr<const Ledger> open_ledger(const std::string& state_dir);

// --label K=V filters.
std::map<std::string, std::string> parse_labels(const std::vector<std::string>& labels);

}  // namespace cgspawn::cli
