// SPDX-License-Identifier: MIT
// A task request as JSON: what start_supervised hands the supervisor over a pipe, and what a
// caller of the C ABI passes (include/cgspawn/cgspawn.h documents the fields). Every field but
// "argv" may be left out; durations are in seconds.
#pragma once

#include <string>

#include "cgspawn/start.hpp"

namespace cgspawn {

// `state_dir`: the ledger's directory (the ledger itself does not cross the pipe).
std::string start_request_json(const StartRequest& request, const std::string& state_dir);
// Fills `request`; returns its "state_dir" ("" when absent: the default ledger). Throws
// nlohmann::json::exception on malformed JSON, cgspawn::Error on a bad value.
std::string start_request_from_json(const std::string& text, StartRequest& request);

}  // namespace cgspawn
