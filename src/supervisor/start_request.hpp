// SPDX-License-Identifier: MIT
// The StartRequest as start_supervised hands it to the supervisor (over a pipe, as JSON).
#pragma once

#include <string>

#include "cgspawn/start.hpp"

namespace cgspawn {

// `state_dir`: the ledger's directory (the ledger itself does not cross the pipe).
std::string start_request_json(const StartRequest& request, const std::string& state_dir);
// Throws nlohmann::json::exception on malformed input. Returns the state directory.
std::string start_request_from_json(const std::string& text, StartRequest& request);

}  // namespace cgspawn
