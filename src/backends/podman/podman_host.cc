// SPDX-License-Identifier: MIT
#include "backends/podman/podman_host.hpp"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "backends/podman/podman_cli.hpp"
#include "cgspawn/error.hpp"
#include "util/file_io.hpp"

namespace cgspawn {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\"'");
  auto e = s.find_last_not_of(" \t\"'\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// `runtime = "..."` in the [engine] table of one containers.conf, "" when it sets none.
std::string runtime_in(const std::string& file) {
  std::ifstream in(file);
  std::string table, found;
  for (std::string line; std::getline(in, line);) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    if (line[0] == '[') {
      table = line;
      continue;
    }
    auto eq = line.find('=');
    if (table == "[engine]" && eq != std::string::npos && trim(line.substr(0, eq)) == "runtime")
      found = trim(line.substr(eq + 1));
  }
  return found;
}

// The files podman 4 reads, in order, later ones overriding; $CONTAINERS_CONF replaces them all.
std::vector<std::string> config_files() {
  if (const char* env = std::getenv("CONTAINERS_CONF"); env && *env) return {env};
  std::vector<std::string> files = {"/usr/share/containers/containers.conf",
                                    "/etc/containers/containers.conf"};
  glob_t g{};
  if (::glob("/etc/containers/containers.conf.d/*.conf", 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) files.push_back(g.gl_pathv[i]);
  ::globfree(&g);
  return files;
}

void find_runtime(PodmanHost& host) {
  host.runtime = "crun";  // podman 4's default where crun is installed (Debian 12)
  host.runtime_from = "podman's default";
  for (const auto& file : config_files()) {
    std::string r = runtime_in(file);
    if (r.empty()) continue;
    host.runtime = r;
    host.runtime_from = file;
  }
}

std::string basename_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// crun 1.8 refuses any hybrid host whose cgroup2 lists a controller ("cgroups in hybrid mode
// not supported").
bool crun_refuses(const Hierarchy& h) {
  if (h.layout != CgroupLayout::hybrid) return false;
  std::string controllers = read_file(h.mount + "/cgroup.controllers").value_or("");
  return controllers.find_first_not_of(" \n") != std::string::npos;
}

Capability usable(const PodmanHost& host) {
  if (host.podman.empty()) return {false, "podman is not installed or not in PATH"};
  if (host.hierarchy.layout == CgroupLayout::none)
    return {false,
            "no cgroup2 on this host: a container's processes could not be killed or verified through its "
            "cgroup"};
  if (::geteuid() != 0)
    return {false, host.hierarchy.layout == CgroupLayout::hybrid
                       ? "rootless podman gets no cgroup of its own on this cgroup v1/hybrid host: "
                         "limits are ignored and nothing could be verified"
                       : "rootless podman is not supported by this backend yet: run as root"};
  if (basename_of(host.runtime) == "crun" && crun_refuses(host.hierarchy))
    return {false,
            "podman's OCI runtime is crun (" + host.runtime_from +
                "), and crun refuses this hybrid cgroup host "
                "(\"cgroups in hybrid mode not supported\"); use runc: [engine] runtime = \"runc\" in the "
                "containers.conf podman reads (e.g. through CONTAINERS_CONF)"};
  return {true, "rootful podman (" + host.podman + ") with runtime " + host.runtime + " (" +
                    host.runtime_from + "), using the environment's podman configuration"};
}

}  // namespace

PodmanHost probe_podman_host() {
  PodmanHost host;
  host.hierarchy = discover_hierarchy();
  try {
    host.podman = podman_path();
  } catch (const Error&) {
  }
  find_runtime(host);
  host.usable = usable(host);
  return host;
}

Capability podman_limit_capability(const PodmanHost& host, const std::string& controller) {
  const Hierarchy& h = host.hierarchy;
  auto v1 = h.v1_controllers.find(controller);
  if (h.layout == CgroupLayout::hybrid) {
    if (v1 != h.v1_controllers.end())
      return {true, "podman sets it through the cgroup v1 " + controller + " controller at " + v1->second +
                        " (hybrid host: the container's cgroup2 node carries no limits)"};
    return {false, "this hybrid host has no cgroup v1 " + controller + " hierarchy for podman to use"};
  }
  std::string controllers = " " + read_file(h.mount + "/cgroup.controllers").value_or("") + " ";
  std::replace(controllers.begin(), controllers.end(), '\n', ' ');
  if (controllers.find(" " + controller + " ") != std::string::npos)  // whole words: cpu is not cpuset
    return {true, "podman sets it through the cgroup2 " + controller + " controller"};
  return {false, "the cgroup2 " + controller + " controller is not available at " + h.mount};
}

void check_podman_limits(const PodmanHost& host, const Limits& limits) {
  struct Want {
    bool given;
    const char* controller;
    const char* what;
  };
  for (const Want& w : {Want{limits.memory_max_bytes.has_value(), "memory", "memory limit"},
                        Want{limits.pids_max.has_value(), "pids", "pids limit"},
                        Want{limits.cpu_max_percent.has_value(), "cpu", "cpu limit"}}) {
    if (!w.given) continue;
    Capability c = podman_limit_capability(host, w.controller);
    if (!c.available)
      throw Error(ErrorKind::unsupported, std::string("cannot enforce the ") + w.what + ": " + c.reason);
  }
}

}  // namespace cgspawn
