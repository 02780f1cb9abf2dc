// SPDX-License-Identifier: MIT
#include "ledger/record_json.hpp"

#include "cgspawn/json.hpp"
#include "report/json_codec.hpp"
#include "report/names.hpp"

namespace cgspawn {
namespace {

using nlohmann::json;

// A state this build does not know reads as the earliest (never as ended).
TaskState state_from(const std::string& name) {
  return parse_task_state(name).value_or(TaskState::starting);
}

}  // namespace

json resource_to_json(const ResourceRecord& res) {
  return {{"kind", to_string(res.resource.kind)},
          {"id", res.resource.id},
          {"state", to_string(res.state)},
          {"attributes", res.attributes}};
}

ResourceRecord resource_from_json(const json& res) {
  return {{enum_named(res.at("kind"), parse_resource_kind, "resource kind"), res.at("id").get<std::string>()},
          enum_named(res.at("state"), parse_resource_state, "resource state"),
          res.value("attributes", std::map<std::string, std::string>())};
}

json record_to_json(const TaskRecord& r) {
  json resources = json::array();
  for (const auto& res : r.resources) resources.push_back(resource_to_json(res));
  json j = {{"schema", 1},
            {"id", r.id},
            {"backend", r.backend},
            {"argv", r.argv},
            {"labels", r.labels},
            {"state", std::string(to_string(r.state))},
            {"owner",
             {{"pid", r.owner.pid}, {"start_time", r.owner.start_time}, {"kind", to_string(r.owner.kind)}}},
            {"bound_to", r.bound_to ? json{{"pid", r.bound_to->pid}, {"start_time", r.bound_to->start_time}}
                                    : json(nullptr)},
            {"resources", resources},
            {"main_pid", r.main_pid},
            {"stdout", r.stdout_path},
            {"stderr", r.stderr_path},
            {"created", r.created_unix},
            {"result", r.result ? result_to_json(*r.result) : json(nullptr)}};
  return j;
}

TaskRecord record_from_json(const json& j) {
  TaskRecord r;
  identity_from(j, r);
  r.state = state_from(j.at("state").get<std::string>());
  const json& owner = j.at("owner");
  r.owner = {owner.at("pid").get<int>(), owner.at("start_time").get<unsigned long long>(),
             enum_named(owner.at("kind"), parse_owner_kind, "owner kind")};
  if (j.contains("bound_to") && !j.at("bound_to").is_null())
    r.bound_to = OwnerRef{j.at("bound_to").at("pid").get<int>(),
                          j.at("bound_to").at("start_time").get<unsigned long long>(), OwnerKind::library};
  for (const auto& res : j.at("resources")) r.resources.push_back(resource_from_json(res));
  r.main_pid = j.value("main_pid", 0);
  r.stdout_path = j.value("stdout", std::string());
  r.stderr_path = j.value("stderr", std::string());
  r.created_unix = j.value("created", 0.0);
  if (!j.at("result").is_null()) r.result = result_from_json(j.at("result"));
  return r;
}

std::string to_json(const TaskRecord& record, int indent) {
  json j = record_to_json(record);
  j["owner"]["alive"] = owner_alive(record.owner);
  return dump_json(j, indent);
}

}  // namespace cgspawn
