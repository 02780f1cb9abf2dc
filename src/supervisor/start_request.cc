// SPDX-License-Identifier: MIT
#include "supervisor/start_request.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cgspawn/error.hpp"
#include "cgspawn/parse.hpp"

namespace cgspawn {
namespace {

using nlohmann::json;

json seconds(std::optional<Duration> d) {
  return d ? json(std::chrono::duration<double>(*d).count()) : json(nullptr);
}

std::optional<Duration> duration_from(const json& j, const char* key, std::optional<Duration> fallback) {
  if (!j.contains(key)) return fallback;
  const json& v = j.at(key);
  if (v.is_null()) return std::nullopt;
  double s = v.get<double>();
  if (s < 0) throw Error(ErrorKind::invalid_argument, std::string("\"") + key + "\" must not be negative");
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

template <typename T>
void read(const json& j, const char* key, T& into) {
  if (j.contains(key) && !j.at(key).is_null()) into = j.at(key).get<T>();
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
          {"lease", seconds(b.lease)}};
}

BackendOptions backend_from(const json& j) {
  BackendOptions b;
  read(j, "name", b.backend);
  read(j, "parent", b.parent);
  read(j, "user_manager", b.user_manager);
  read(j, "unit_type", b.unit_type);
  read(j, "image", b.image);
  read(j, "rootfs", b.rootfs);
  read(j, "keep_container", b.keep_container);
  read(j, "host", b.host);
  read(j, "ssh_config", b.ssh_config);
  b.lease = duration_from(j, "lease", b.lease);
  return b;
}

Limits limits_from(const json& j) {
  Limits l;
  if (j.contains("memory_max") && !j.at("memory_max").is_null())
    l.memory_max_bytes = j.at("memory_max").get<std::uint64_t>();
  if (j.contains("pids_max") && !j.at("pids_max").is_null())
    l.pids_max = j.at("pids_max").get<std::uint64_t>();
  if (j.contains("cpu_max") && !j.at("cpu_max").is_null())
    l.cpu_max_percent = j.at("cpu_max").get<std::uint32_t>();
  return l;
}

template <typename T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

std::string start_request_json(const StartRequest& r, const std::string& state_dir) {
  const TaskSpec& s = r.spec;
  json limits = {{"memory_max", optional_json(s.limits.memory_max_bytes)},
                 {"pids_max", optional_json(s.limits.pids_max)},
                 {"cpu_max", optional_json(s.limits.cpu_max_percent)}};
  json j = {{"argv", s.argv},
            {"env", s.env},
            {"inherit_env", s.inherit_env},
            {"cwd", s.cwd},
            {"limits", limits},
            {"timeout", seconds(s.timeout)},
            {"grace", seconds(s.grace)},
            {"labels", s.labels},
            {"id", s.id},
            {"state_dir", state_dir},
            {"stdout", r.stdout_path},
            {"stderr", r.stderr_path},
            {"bind_pid", s.bound_to},
            {"on_leftovers", std::string(to_string(s.on_leftovers))},
            {"track_lineage", s.track_lineage},
            {"scratch", s.scratch},
            {"keep_scratch", s.keep_scratch},
            {"scratch_root", s.scratch_root},
            {"private_tmp", s.private_tmp},
            {"private_ipc", s.private_ipc},
            {"hang_report", s.hang_report},
            {"backend", backend_json(r.backend)}};
  return j.dump();
}

std::string start_request_from_json(const std::string& text, StartRequest& r) {
  json j = json::parse(text);
  if (!j.is_object()) throw Error(ErrorKind::invalid_argument, "a task request is a JSON object");
  TaskSpec& s = r.spec;
  read(j, "argv", s.argv);
  read(j, "env", s.env);
  read(j, "inherit_env", s.inherit_env);
  read(j, "cwd", s.cwd);
  read(j, "stdin_fd", s.stdin_fd);
  read(j, "stdout_fd", s.stdout_fd);
  read(j, "stderr_fd", s.stderr_fd);
  if (j.contains("limits")) s.limits = limits_from(j.at("limits"));
  s.timeout = duration_from(j, "timeout", std::nullopt);
  if (auto grace = duration_from(j, "grace", s.grace)) s.grace = *grace;
  read(j, "labels", s.labels);
  read(j, "id", s.id);
  read(j, "bind_pid", s.bound_to);
  if (j.contains("on_leftovers")) {
    auto policy = parse_leftovers_policy(j.at("on_leftovers").get<std::string>());
    if (!policy) throw Error(ErrorKind::invalid_argument, "on_leftovers: use kill, fail or report");
    s.on_leftovers = *policy;
  }
  read(j, "track_lineage", s.track_lineage);
  read(j, "scratch", s.scratch);
  read(j, "keep_scratch", s.keep_scratch);
  read(j, "scratch_root", s.scratch_root);
  read(j, "private_tmp", s.private_tmp);
  read(j, "private_ipc", s.private_ipc);
  read(j, "hang_report", s.hang_report);
  bool bind_owner = false;
  read(j, "bind_owner", bind_owner);
  if (bind_owner) s.bound_to = ::getpid();
  read(j, "stdout", r.stdout_path);
  read(j, "stderr", r.stderr_path);
  s.stdout_path = r.stdout_path;
  s.stderr_path = r.stderr_path;
  if (j.contains("backend")) r.backend = backend_from(j.at("backend"));
  std::string state_dir;
  read(j, "state_dir", state_dir);
  return state_dir;
}

}  // namespace cgspawn
