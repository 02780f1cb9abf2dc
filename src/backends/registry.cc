#include "backends/registry.hpp"

#include "backends/podman/podman_backend.hpp"
#include "backends/process/process_backend.hpp"
#include "backends/systemd/systemd_backend.hpp"
#include "backends/remote/remote_backend.hpp"
#include "cgspawn/error.hpp"

namespace cgspawn {

const std::vector<BackendEntry>& backend_table() {
  static const std::vector<BackendEntry> table = {
      {"process", make_process_backend, process_backend_capabilities},
      {"systemd", make_systemd_backend, systemd_backend_capabilities},
      {"remote", make_remote_backend, remote_backend_capabilities},
      {"podman", make_podman_backend, podman_backend_capabilities},
  };
  return table;
}

ResourceDestroyer destroyer_for(const std::string& kind) {
  struct Row {
    const char* kind;
    ResourceDestroyer destroy;
  };
  static const Row rows[] = {
      {"cgroup", destroy_recorded_cgroup},
      {"scope", destroy_recorded_systemd_unit},
      {"service", destroy_recorded_systemd_unit},
      {"remote-cgroup", destroy_recorded_remote_cgroup},
      {"remote-unit", destroy_recorded_remote_cgroup},  // the agent tells a unit from a cgroup
      {"ssh-master", destroy_recorded_ssh_master},
      {"container", destroy_recorded_container},
      {"conmon", destroy_recorded_conmon},
  };
  for (const auto& row : rows)
    if (kind == row.kind) return row.destroy;
  return nullptr;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const auto& entry : backend_table()) names.push_back(entry.name);
  return names;
}

std::unique_ptr<Spawner> make_spawner(const BackendOptions& options) {
  for (const auto& entry : backend_table())
    if (options.backend == entry.name) return entry.make(options);
  std::string known;
  for (const auto& name : backend_names()) known += (known.empty() ? "" : ", ") + name;
  throw Error(ErrorKind::invalid_argument, "unknown backend \"" + options.backend + "\" (this build has: " + known + ")");
}

Capabilities backend_capabilities(const BackendOptions& options) {
  for (const auto& entry : backend_table())
    if (options.backend == entry.name) return entry.capabilities(options);
  Capabilities caps;
  caps.backend = options.backend;
  caps.usable = {false, "not a backend of this build"};
  return caps;
}

}  // namespace cgspawn
