// SPDX-License-Identifier: MIT
#include "dbus/scope_verify.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string_view>
#include <thread>

#include "cgroup/hierarchy.hpp"
#include "cgspawn/error.hpp"
#include "dbus/unit_properties.hpp"
#include "util/file_io.hpp"
#include "util/text_items.hpp"

namespace cgspawn::dbus {
namespace {

std::optional<std::string> first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

// read(2), not a stream: of a process that is exiting the read fails (ESRCH), which
// libstdc++'s filebuf throws as an error instead of ending the input.
std::string cgroup_of(pid_t pid) {
  std::string_view rest;
  auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (text) rest = *text;
  while (!rest.empty()) {
    std::string_view line = take_item(rest, '\n');
    if (line.substr(0, 3) == "0::") return std::string(line.substr(3));
  }
  return "(gone)";
}

[[noreturn]] void not_taken(const std::string& property, const std::string& file, const std::string& found,
                            bool user_manager) {
  std::string why = user_manager ? " (the controller is not delegated to the user manager)" : "";
  throw Error(ErrorKind::unsupported, property + " did not take: " + file + " " +
                                          (found.empty() ? "does not exist" : "reads \"" + found + "\"") +
                                          why);
}

std::string read_limit(const std::string& file) {
  return first_line(file).value_or("");
}

void check_memory(const std::string& cgroup, std::uint64_t bytes, bool user) {
  std::string file = cgroup + "/memory.max";
  std::string found = read_limit(file);
  // The kernel rounds memory.max down to whole pages.
  unsigned long long value = 0;
  if (std::sscanf(found.c_str(), "%llu", &value) != 1 || value > bytes || bytes - value >= 65536)
    not_taken("MemoryMax=" + std::to_string(bytes), file, found, user);
  std::string swap = cgroup + "/memory.swap.max";
  if (std::ifstream(swap) && read_limit(swap) != "0")
    not_taken("MemorySwapMax=0", swap, read_limit(swap), user);
}

void check_pids(const std::string& cgroup, std::uint64_t tasks, bool user) {
  std::string file = cgroup + "/pids.max";
  std::string found = read_limit(file);
  if (found != std::to_string(tasks)) not_taken("TasksMax=" + std::to_string(tasks), file, found, user);
}

void check_cpu(const std::string& cgroup, std::uint32_t percent, bool user) {
  std::string file = cgroup + "/cpu.max";
  std::string found = read_limit(file);
  unsigned long long quota = 0, period = 0;
  bool ok = std::sscanf(found.c_str(), "%llu %llu", &quota, &period) == 2 && period > 0;
  // Within 1 % of one CPU: systemd derives the quota from CPUQuotaPerSecUSec and its period.
  double got = ok ? 100.0 * static_cast<double>(quota) / static_cast<double>(period) : -1;
  if (!ok || got < percent - 1.0 || got > percent + 1.0)
    not_taken("CPUQuotaPerSecUSec=" + std::to_string(cpu_quota_usec(percent)), file, found, user);
}

}  // namespace

std::string verify_active(Manager& manager, const std::string& unit) {
  std::optional<std::string> path;
  std::string state, control_group;
  try {
    path = manager.get_unit(unit);
    if (path) {
      state = manager.unit_string(*path, "ActiveState");
      std::string iface = "org.freedesktop.systemd1." +
                          std::string(unit.size() > 6 && unit.ends_with(".scope") ? "Scope" : "Service");
      control_group = manager.property<std::string>(*path, iface, "ControlGroup");
    }
  } catch (const Error& e) {
    throw in_context("read the state of " + unit, e);
  }
  if (!path) throw Error(ErrorKind::system, unit + " is not loaded after its start job finished");
  if (state != "active")
    throw Error(ErrorKind::system, unit + " is " + state + ", not active, after its start job");
  if (control_group.empty()) throw Error(ErrorKind::system, unit + " has no cgroup");
  return discover_hierarchy().mount + control_group;
}

void verify_members(const std::string& cgroup, const std::vector<pid_t>& pids) {
  std::string mount = discover_hierarchy().mount;
  std::string relative = cgroup.substr(mount.size());
  for (pid_t pid : pids) {
    std::string actual = cgroup_of(pid);
    if (actual != relative)
      throw Error(ErrorKind::system, "process " + std::to_string(pid) + " is in " + actual +
                                         ", not in the unit's cgroup " + relative);
  }
}

void verify_limits(const std::string& cgroup, const Limits& limits, unsigned extra_tasks, bool user_manager) {
  if (limits.memory_max_bytes) check_memory(cgroup, *limits.memory_max_bytes, user_manager);
  if (limits.pids_max) check_pids(cgroup, tasks_max_for(*limits.pids_max, extra_tasks), user_manager);
  if (limits.cpu_max_percent) check_cpu(cgroup, *limits.cpu_max_percent, user_manager);
}

// Unloading is asynchronous in systemd: poll GetUnit with a short back-off.
std::string wait_unit_gone(Manager& manager, const std::string& unit, const std::string& cgroup,
                           Clock::time_point deadline) {
  auto pause = std::chrono::milliseconds(2);
  for (;;) {
    std::string state;
    try {
      if (auto path = manager.get_unit(unit)) state = manager.unit_string(*path, "ActiveState");
    } catch (const BusError& e) {
      if (e.name() != kNoSuchUnit) return "GetUnit: " + std::string(e.what());
    }
    bool cgroup_left = !cgroup.empty() && ::access(cgroup.c_str(), F_OK) == 0;
    if (state.empty() && !cgroup_left) return "";
    if (Clock::now() >= deadline) {
      if (!state.empty()) return "the unit is still loaded (ActiveState=" + state + ")";
      return "systemd did not remove the unit's cgroup " + cgroup;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace cgspawn::dbus
