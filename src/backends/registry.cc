// SPDX-License-Identifier: MIT
#include "backends/registry.hpp"

#include "backends/backend_rows.hpp"
#include "cgspawn/error.hpp"
#include "lineage/escaped.hpp"
#include "lineage/sysv_ipc.hpp"

namespace cgspawn {
namespace {

struct DestroyerEntry {
  ResourceKind kind;
  ResourceDestroyer destroy;
};

const DestroyerEntry kDestroyers[] = {
    {ResourceKind::cgroup, destroy_recorded_cgroup},
    {ResourceKind::scope, destroy_recorded_unit},
    {ResourceKind::service, destroy_recorded_unit},
    {ResourceKind::remote_cgroup, destroy_recorded_remote_cgroup},
    {ResourceKind::remote_unit, destroy_recorded_remote_cgroup},  // the agent tells a unit from a cgroup
    {ResourceKind::ssh_master, destroy_recorded_ssh_master},
    {ResourceKind::container, destroy_recorded_container},
    {ResourceKind::conmon, destroy_recorded_conmon},
    {ResourceKind::escaped_process, destroy_recorded_escape},
    {ResourceKind::ipc, destroy_recorded_ipc},
    {ResourceKind::directory, destroy_recorded_directory},
};

// The options that belong to one backend: given to another, they are a mistake to refuse, not
// something to ignore. Named as the CLI spells them (each is the BackendOptions field of that
// name). "Given" is "not the default": a default value given explicitly passes.
void refuse_other_backends_options(const BackendOptions& o) {
  const BackendOptions d;
  struct Given {
    const char* option;
    bool given;
    const char* backend;
  };
  const Given given[] = {{"--user", o.user_manager, "systemd"},
                         {"--unit-type", o.unit_type != d.unit_type, "systemd"},
                         {"--image", !o.image.empty(), "podman"},
                         {"--rootfs", !o.rootfs.empty(), "podman"},
                         {"--keep-container", o.keep_container, "podman"},
                         {"--host", !o.host.empty(), "remote"},
                         {"--ssh-config", !o.ssh_config.empty(), "remote"},
                         {"--lease", o.lease != d.lease, "remote"}};
  for (const auto& g : given)
    if (g.given && o.backend != g.backend)
      throw Error(ErrorKind::invalid_argument, std::string(g.option) + ": is an option of the " + g.backend +
                                                   " backend, not of " + o.backend);
  // The systemd manager and the remote host choose where a task's cgroup goes: a parent here
  // means nothing to them.
  if (!o.parent.empty() && (o.backend == "systemd" || o.backend == "remote"))
    throw Error(ErrorKind::invalid_argument,
                "--parent: is an option of the process and podman backends, not of " + o.backend);
}

const BackendEntry* entry_for(const std::string& name) {
  for (const auto& entry : backend_table())
    if (name == entry.name) return &entry;
  return nullptr;
}

// Every "no" says why: where a backend is not usable at all, that is the reason for each.
void explain_each_no(Capabilities& caps) {
  for (Capability* c : caps.guarantees())
    if (!c->available && c->reason.empty())
      c->reason = "the backend is not usable here: " + caps.usable.reason;
}

}  // namespace

const std::vector<BackendEntry>& backend_table() {
  static const std::vector<BackendEntry> table = {
      {"process", make_process_backend, process_backend_capabilities, find_orphan_cgroups},
      {"systemd", make_systemd_backend, systemd_backend_capabilities, find_orphan_units},
      {"remote", make_remote_backend, remote_backend_capabilities, nullptr},
      {"podman", make_podman_backend, podman_backend_capabilities, nullptr},
  };
  return table;
}

Capabilities capabilities_by_making(const char* backend,
                                    std::unique_ptr<Spawner> (*make)(const BackendOptions&),
                                    const BackendOptions& options) {
  try {
    return make(options)->capabilities();
  } catch (const Error& e) {
    Capabilities caps;
    caps.backend = backend;
    caps.usable = {false, e.what()};
    return caps;
  }
}

ResourceDestroyer destroyer_for(ResourceKind kind) {
  for (const auto& row : kDestroyers)
    if (kind == row.kind) return row.destroy;
  return nullptr;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const auto& entry : backend_table()) names.push_back(entry.name);
  return names;
}

std::unique_ptr<Spawner> make_spawner(const BackendOptions& options) {
  const BackendEntry* entry = entry_for(options.backend);
  if (!entry) {
    std::string known;
    for (const auto& name : backend_names()) known += (known.empty() ? "" : ", ") + name;
    throw Error(ErrorKind::invalid_argument,
                "unknown backend \"" + options.backend + "\" (this build has: " + known + ")");
  }
  refuse_other_backends_options(options);
  return entry->make(options);
}

Capabilities backend_capabilities(const BackendOptions& options) {
  Capabilities caps;
  if (const BackendEntry* entry = entry_for(options.backend)) {
    caps = entry->capabilities(options);
  } else {
    caps.backend = options.backend;
    caps.usable = {false, "not a backend of this build"};
  }
  explain_each_no(caps);
  return caps;
}

}  // namespace cgspawn
