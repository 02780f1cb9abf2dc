// SPDX-License-Identifier: MIT
#include "cgroup/limits.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "util/file_io.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The controllers a new child of `parent` could get: the parent's own cgroup.controllers, or,
// while the parent does not exist yet, what its nearest existing ancestor hands down.
std::string controllers_for_children_of(const std::string& parent, const std::string& mount) {
  if (exists(parent)) return read_file(parent + "/cgroup.controllers").value_or("");
  std::string dir = parent;
  while (dir.size() > mount.size()) {
    dir = dir.substr(0, dir.rfind('/'));
    if (exists(dir)) return read_file(dir + "/cgroup.subtree_control").value_or("");
  }
  return "";
}

std::vector<std::string> controllers_needed(const Limits& limits) {
  std::vector<std::string> out;
  if (limits.memory_max_bytes) out.push_back("memory");
  if (limits.pids_max) out.push_back("pids");
  if (limits.cpu_max_percent) out.push_back("cpu");
  return out;
}

void write_and_check(const Cgroup& cgroup, const std::string& file, const std::string& value,
                     const std::string& expect) {
  if (int err = cgroup.write(file, value))
    throw Error(ErrorKind::unsupported,
                sys_message("write " + value + " to " + cgroup.path() + "/" + file, err));
  std::string got = cgroup.read(file).value_or("");
  while (!got.empty() && got.back() == '\n') got.pop_back();
  if (got != expect)
    throw Error(ErrorKind::unsupported,
                cgroup.path() + "/" + file + " reads \"" + got + "\" after writing \"" + value + "\"");
}

std::string cpu_max_value(std::uint32_t percent) {
  const std::uint64_t period = 100000;  // systemd's default period for CPUQuota=
  return std::to_string(period * percent / 100) + " " + std::to_string(period);
}

}  // namespace

Capability controller_capability(const std::string& controller, const std::string& parent,
                                 const Hierarchy& hierarchy) {
  if (hierarchy.layout == CgroupLayout::none) return {false, "no cgroup2 on this host"};
  if (has_word(controllers_for_children_of(parent, hierarchy.mount), controller))
    return {true, "the " + controller + " controller of cgroup2 at " + parent};
  auto v1 = hierarchy.v1_controllers.find(controller);
  if (v1 != hierarchy.v1_controllers.end())
    return {false, "the " + controller + " controller is bound to the cgroup v1 hierarchy at " + v1->second +
                       ", so cgroup2 (" + hierarchy.mount + ") cannot use it"};
  return {false, "the " + controller + " controller is not delegated to " + parent +
                     " (not in the cgroup.controllers it can use)"};
}

void check_limits_available(const Limits& limits, const std::string& parent, const Hierarchy& hierarchy) {
  for (const auto& controller : controllers_needed(limits)) {
    Capability cap = controller_capability(controller, parent, hierarchy);
    if (!cap.available)
      throw Error(ErrorKind::unsupported, "cannot enforce the " + controller + " limit: " + cap.reason);
  }
}

namespace {

void enable_in_subtree(const std::string& dir, const std::string& controller) {
  if (has_word(read_file(dir + "/cgroup.subtree_control").value_or(""), controller)) return;
  if (int err = write_file(dir + "/cgroup.subtree_control", "+" + controller))
    throw Error(ErrorKind::unsupported,
                "cannot enforce the " + controller + " limit: " +
                    sys_message("enable +" + controller + " in " + dir + "/cgroup.subtree_control", err) +
                    (err == EBUSY ? " (the cgroup has processes of its own)" : ""));
}

// The strict ancestors of `parent` that must enable `controller` in their subtree_control for
// the parent to get it, deepest first: each one up to (not including) the first ancestor that
// already hands it down.
std::vector<std::string> ancestors_to_enable(const std::string& parent, const std::string& controller,
                                             const std::string& mount) {
  std::vector<std::string> out;
  std::string dir = parent;
  while (dir.size() > mount.size()) {
    std::string up = dir.substr(0, dir.rfind('/'));
    if (up.size() < mount.size() ||
        has_word(read_file(up + "/cgroup.subtree_control").value_or(""), controller))
      break;
    out.push_back(up);
    dir = up;
  }
  return out;
}

}  // namespace

void prepare_controllers(const Limits& limits, const std::string& parent, const Hierarchy& hierarchy) {
  // A parent that did not exist, several levels below the nearest existing ancestor (e.g.
  // <delegated>/a/b), was just made by make_parent(): check_limits_available() accepted it
  // because that ancestor hands the controller down, but the new intermediate cgroups (a) hand
  // nothing down yet, so the parent (b) would lack it and the limit would be refused after all.
  // Enable it top-down in those cgroups (tests/guest/test_guest_limits.cc covers this).
  // The caller ran check_limits_available() before making the parent, so the cgroups between
  // the parent and the nearest one that hands the controller down are the ones cgspawn has just
  // made (a pre-existing parent without the controller was refused there).
  if (hierarchy.layout != CgroupLayout::none && parent.rfind(hierarchy.mount + "/", 0) == 0 &&
      ::access(parent.c_str(), F_OK) == 0) {
    for (const auto& controller : controllers_needed(limits)) {
      if (has_word(read_file(parent + "/cgroup.controllers").value_or(""), controller)) continue;
      auto chain = ancestors_to_enable(parent, controller, hierarchy.mount);
      if (chain.empty() || chain.back().size() <= hierarchy.mount.size()) continue;  // never the root
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) enable_in_subtree(*it, controller);
    }
  }
  check_limits_available(limits, parent, hierarchy);
  for (const auto& controller : controllers_needed(limits)) enable_in_subtree(parent, controller);
}

void apply_limits(const Cgroup& cgroup, const Limits& limits) {
  if (limits.memory_max_bytes) {
    std::string bytes = std::to_string(*limits.memory_max_bytes / 4096 * 4096);  // the kernel rounds to pages
    write_and_check(cgroup, "memory.max", bytes, bytes);
    if (cgroup.read("memory.swap.max")) write_and_check(cgroup, "memory.swap.max", "0", "0");
  }
  if (limits.pids_max) {
    std::string n = std::to_string(*limits.pids_max);
    write_and_check(cgroup, "pids.max", n, n);
  }
  if (limits.cpu_max_percent) {
    std::string value = cpu_max_value(*limits.cpu_max_percent);
    write_and_check(cgroup, "cpu.max", value, value);
  }
}

}  // namespace cgspawn
