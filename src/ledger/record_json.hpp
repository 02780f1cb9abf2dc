// SPDX-License-Identifier: MIT
// TaskRecord <-> JSON (the ledger's file format; schema 1).
#pragma once

#include <nlohmann/json.hpp>

#include "cgspawn/ledger.hpp"

namespace cgspawn {

nlohmann::json record_to_json(const TaskRecord& record);
// Throws nlohmann::json::exception when malformed.
TaskRecord record_from_json(const nlohmann::json& j);
nlohmann::json resource_to_json(const ResourceRecord& resource);
ResourceRecord resource_from_json(const nlohmann::json& j);

}  // namespace cgspawn
