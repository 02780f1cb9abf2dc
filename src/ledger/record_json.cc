#include "ledger/record_json.hpp"

#include "report/json_codec.hpp"

namespace cgspawn {
namespace {

using nlohmann::json;

TaskState state_from(const std::string& name) {
  if (name == "running") return TaskState::running;
  if (name == "exited") return TaskState::exited;
  return TaskState::starting;
}

}  // namespace

std::string_view to_string(TaskState state) {
  switch (state) {
    case TaskState::starting: return "starting";
    case TaskState::running: return "running";
    case TaskState::exited: return "exited";
  }
  return "starting";
}

json record_to_json(const TaskRecord& r) {
  json resources = json::array();
  for (const auto& res : r.resources)
    resources.push_back({{"kind", res.kind}, {"id", res.id}, {"state", res.state}, {"attributes", res.attributes}});
  json j = {{"schema", 1},
            {"id", r.id},
            {"backend", r.backend},
            {"argv", r.argv},
            {"labels", r.labels},
            {"state", std::string(to_string(r.state))},
            {"owner", {{"pid", r.owner.pid}, {"start_time", r.owner.start_time}, {"kind", r.owner.kind}}},
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
  r.id = j.at("id").get<std::string>();
  r.backend = j.at("backend").get<std::string>();
  r.argv = j.at("argv").get<std::vector<std::string>>();
  r.labels = j.at("labels").get<std::map<std::string, std::string>>();
  r.state = state_from(j.at("state").get<std::string>());
  const json& owner = j.at("owner");
  r.owner = {owner.at("pid").get<int>(), owner.at("start_time").get<unsigned long long>(),
             owner.at("kind").get<std::string>()};
  for (const auto& res : j.at("resources"))
    r.resources.push_back({res.at("kind").get<std::string>(), res.at("id").get<std::string>(),
                           res.at("state").get<std::string>(),
                           res.value("attributes", std::map<std::string, std::string>())});
  r.main_pid = j.value("main_pid", 0);
  r.stdout_path = j.value("stdout", std::string());
  r.stderr_path = j.value("stderr", std::string());
  r.created_unix = j.value("created", 0.0);
  if (!j.at("result").is_null()) r.result = result_from_json(j.at("result"));
  return r;
}

}  // namespace cgspawn
