#include "spec_json.hpp"

#include <nlohmann/json.hpp>

namespace cgspawn::supervisor {
namespace {

using nlohmann::json;

long long nanoseconds(Duration d) { return static_cast<long long>(d.count()); }

}  // namespace

std::string to_json(const StartRequest& r) {
  const TaskSpec& s = r.spec;
  json limits = {{"memory_max", s.limits.memory_max_bytes ? json(*s.limits.memory_max_bytes) : json(nullptr)},
                 {"pids_max", s.limits.pids_max ? json(*s.limits.pids_max) : json(nullptr)},
                 {"cpu_max", s.limits.cpu_max_percent ? json(*s.limits.cpu_max_percent) : json(nullptr)}};
  json j = {{"argv", s.argv}, {"env", s.env}, {"cwd", s.cwd}, {"limits", limits},
            {"timeout_ns", s.timeout ? json(nanoseconds(*s.timeout)) : json(nullptr)},
            {"grace_ns", nanoseconds(s.grace)}, {"labels", s.labels}, {"id", s.id},
            {"state_dir", r.state_dir}, {"parent", r.parent}, {"stdout", r.stdout_path},
            {"stderr", r.stderr_path}};
  return j.dump();
}

StartRequest start_request_from_json(const std::string& text) {
  json j = json::parse(text);
  StartRequest r;
  TaskSpec& s = r.spec;
  s.argv = j.at("argv").get<std::vector<std::string>>();
  s.env = j.at("env").get<std::vector<std::string>>();
  s.cwd = j.at("cwd").get<std::string>();
  const json& limits = j.at("limits");
  if (!limits.at("memory_max").is_null()) s.limits.memory_max_bytes = limits.at("memory_max").get<std::uint64_t>();
  if (!limits.at("pids_max").is_null()) s.limits.pids_max = limits.at("pids_max").get<std::uint64_t>();
  if (!limits.at("cpu_max").is_null()) s.limits.cpu_max_percent = limits.at("cpu_max").get<std::uint32_t>();
  if (!j.at("timeout_ns").is_null()) s.timeout = Duration(j.at("timeout_ns").get<long long>());
  s.grace = Duration(j.at("grace_ns").get<long long>());
  s.labels = j.at("labels").get<std::map<std::string, std::string>>();
  s.id = j.at("id").get<std::string>();
  r.state_dir = j.at("state_dir").get<std::string>();
  r.parent = j.at("parent").get<std::string>();
  r.stdout_path = j.at("stdout").get<std::string>();
  r.stderr_path = j.at("stderr").get<std::string>();
  return r;
}

}  // namespace cgspawn::supervisor
