// SPDX-License-Identifier: MIT
#include "backends/podman/container_ref.hpp"

namespace cgspawn {
namespace {

std::string get(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

unsigned long long number(const std::string& text) {
  try {
    return text.empty() ? 0 : std::stoull(text);
  } catch (const std::exception&) {
    return 0;  // a damaged attribute: treated as "not recorded"
  }
}

}  // namespace

std::map<std::string, std::string> ContainerRef::attributes() const {
  return {{"task", task_id},
          {"name", name},
          {"container_id", id},
          {"task_cgroup", task_cgroup},
          {"cgroup_parent", cgroup_parent},
          {"container_cgroup", container_cgroup},
          {"conmon_pid", std::to_string(conmon_pid)},
          {"conmon_start", std::to_string(conmon_start)},
          {"keep", keep ? "1" : "0"}};
}

ContainerRef ContainerRef::from_attributes(const std::map<std::string, std::string>& a) {
  ContainerRef ref;
  ref.task_id = get(a, "task");
  ref.name = get(a, "name");
  ref.id = get(a, "container_id");
  ref.task_cgroup = get(a, "task_cgroup");
  ref.cgroup_parent = get(a, "cgroup_parent");
  ref.container_cgroup = get(a, "container_cgroup");
  ref.conmon_pid = static_cast<int>(number(get(a, "conmon_pid")));
  ref.conmon_start = number(get(a, "conmon_start"));
  ref.keep = get(a, "keep") == "1";
  return ref;
}

}  // namespace cgspawn
