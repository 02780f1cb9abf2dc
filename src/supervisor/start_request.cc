// SPDX-License-Identifier: MIT
#include "supervisor/start_request.hpp"

#include <nlohmann/json.hpp>

namespace cgspawn {
namespace {

using nlohmann::json;

long long nanoseconds(Duration d) {
  return static_cast<long long>(d.count());
}

json backend_json(const BackendOptions& b) {
  return {{"name", b.backend},
          {"parent", b.parent},
          {"user_manager", b.user_manager},
          {"unit_type", b.unit_type},
          {"image", b.image},
          {"rootfs", b.rootfs},
          {"keep_container", b.keep_container},
          {"host", b.host},
          {"ssh_config", b.ssh_config},
          {"lease_ns", b.lease ? json(nanoseconds(*b.lease)) : json(nullptr)}};
}

BackendOptions backend_from(const json& j) {
  BackendOptions b;
  b.backend = j.at("name").get<std::string>();
  b.parent = j.at("parent").get<std::string>();
  b.user_manager = j.at("user_manager").get<bool>();
  b.unit_type = j.at("unit_type").get<std::string>();
  b.image = j.at("image").get<std::string>();
  b.rootfs = j.at("rootfs").get<std::string>();
  b.keep_container = j.at("keep_container").get<bool>();
  b.host = j.at("host").get<std::string>();
  b.ssh_config = j.at("ssh_config").get<std::string>();
  if (j.at("lease_ns").is_null())
    b.lease.reset();
  else
    b.lease = Duration(j.at("lease_ns").get<long long>());
  return b;
}

}  // namespace

std::string start_request_json(const StartRequest& r, const std::string& state_dir) {
  const TaskSpec& s = r.spec;
  json limits = {{"memory_max", s.limits.memory_max_bytes ? json(*s.limits.memory_max_bytes) : json(nullptr)},
                 {"pids_max", s.limits.pids_max ? json(*s.limits.pids_max) : json(nullptr)},
                 {"cpu_max", s.limits.cpu_max_percent ? json(*s.limits.cpu_max_percent) : json(nullptr)}};
  json j = {{"argv", s.argv},
            {"env", s.env},
            {"cwd", s.cwd},
            {"limits", limits},
            {"timeout_ns", s.timeout ? json(nanoseconds(*s.timeout)) : json(nullptr)},
            {"grace_ns", nanoseconds(s.grace)},
            {"labels", s.labels},
            {"id", s.id},
            {"state_dir", state_dir},
            {"stdout", r.stdout_path},
            {"stderr", r.stderr_path},
            {"backend", backend_json(r.backend)}};
  return j.dump();
}

std::string start_request_from_json(const std::string& text, StartRequest& r) {
  json j = json::parse(text);
  TaskSpec& s = r.spec;
  s.argv = j.at("argv").get<std::vector<std::string>>();
  s.env = j.at("env").get<std::vector<std::string>>();
  s.cwd = j.at("cwd").get<std::string>();
  const json& limits = j.at("limits");
  if (!limits.at("memory_max").is_null())
    s.limits.memory_max_bytes = limits.at("memory_max").get<std::uint64_t>();
  if (!limits.at("pids_max").is_null()) s.limits.pids_max = limits.at("pids_max").get<std::uint64_t>();
  if (!limits.at("cpu_max").is_null()) s.limits.cpu_max_percent = limits.at("cpu_max").get<std::uint32_t>();
  if (!j.at("timeout_ns").is_null()) s.timeout = Duration(j.at("timeout_ns").get<long long>());
  s.grace = Duration(j.at("grace_ns").get<long long>());
  s.labels = j.at("labels").get<std::map<std::string, std::string>>();
  s.id = j.at("id").get<std::string>();
  r.backend = backend_from(j.at("backend"));
  r.stdout_path = j.at("stdout").get<std::string>();
  r.stderr_path = j.at("stderr").get<std::string>();
  return j.at("state_dir").get<std::string>();
}

}  // namespace cgspawn
