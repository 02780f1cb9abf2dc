// SPDX-License-Identifier: MIT
// A task run through the CLI for its Result (docs/cli.md, JSON), and the rows of one kind in it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host.hpp"

namespace cgtest {

// cgspawn run -q --result FILE ARGS...: checks the exit status, returns the Result ({} if none).
nlohmann::json run_json(const std::vector<std::string>& args, TempDir& tmp, int expected_exit);

// The cleanup rows of `kind` ("directory", "ipc", ...).
std::vector<nlohmann::json> rows_of(const nlohmann::json& result, const std::string& kind);

}  // namespace cgtest
