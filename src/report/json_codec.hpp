// SPDX-License-Identifier: MIT
// nlohmann::json forms of the public types, both ways (the ledger stores Results).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// The fields that say which task it was (id, backend, argv, labels): a Result and a
// TaskRecord carry the same.
template <typename T>
void identity_from(const nlohmann::json& j, T& t) {
  t.id = j.at("id").get<std::string>();
  t.backend = j.at("backend").get<std::string>();
  t.argv = j.at("argv").get<std::vector<std::string>>();
  t.labels = j.at("labels").get<std::map<std::string, std::string>>();
}

// The enum value a JSON string names (`parse`: one of report/names.hpp). Throws a json
// exception naming `what` for a name this build does not know: never silently another value.
template <typename E>
E enum_named(const nlohmann::json& j, std::optional<E> (*parse)(std::string_view), const char* what) {
  std::string name = j.get<std::string>();
  if (std::optional<E> value = parse(name)) return *value;
  throw nlohmann::json::other_error::create(501, std::string("unknown ") + what + " \"" + name + "\"", &j);
}

}  // namespace cgspawn
