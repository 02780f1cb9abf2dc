// nlohmann::json forms of the public types, both ways (the ledger stores Results).
#pragma once

#include <nlohmann/json.hpp>

#include "cgspawn/capabilities.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn {

nlohmann::json report_to_json(const CleanupReport& report);
nlohmann::json result_to_json(const Result& result);
nlohmann::json capabilities_to_json(const Capabilities& capabilities);

// Throws nlohmann::json::exception when a field is missing or of the wrong type.
CleanupReport report_from_json(const nlohmann::json& j);
Result result_from_json(const nlohmann::json& j);

std::string dump_json(const nlohmann::json& j, int indent);

}  // namespace cgspawn
