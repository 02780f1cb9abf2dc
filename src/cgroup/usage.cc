// SPDX-License-Identifier: MIT
#include "cgroup/usage.hpp"

#include <unistd.h>

#include "cgroup/pressure.hpp"
#include "util/file_io.hpp"

namespace cgspawn {
namespace {

std::string provided(bool yes, const std::string& why_not) {
  return yes ? "yes" : "no (" + why_not + ")";
}

}  // namespace

Usage read_usage(const Cgroup& cgroup) {
  Usage usage;
  std::string cpu = cgroup.read("cpu.stat").value_or("");
  usage.cpu_user_seconds = static_cast<double>(keyed_value(cpu, "user_usec").value_or(0)) / 1e6;
  usage.cpu_system_seconds = static_cast<double>(keyed_value(cpu, "system_usec").value_or(0)) / 1e6;
  usage.cpu_throttled_periods = keyed_value(cpu, "nr_throttled");
  if (auto usec = keyed_value(cpu, "throttled_usec"))
    usage.cpu_throttled_seconds = static_cast<double>(*usec) / 1e6;
  // memory.events is there wherever the memory controller is (memory.peak since Linux 5.19):
  // without it, memory.peak is not looked for either.
  if (auto events = cgroup.read("memory.events")) {
    usage.oom_kills = keyed_value(*events, "oom_kill");
    auto peak = cgroup.read("memory.peak");
    if (peak && !peak->empty()) usage.memory_peak_bytes = std::stoull(*peak);
  }
  usage.pressure = read_stalls([&cgroup](const std::string& file) { return cgroup.read(file); });
  return usage;
}

Capability usage_capability(const std::string& parent) {
  std::string enabled = read_file(parent + "/cgroup.subtree_control").value_or("");
  bool memory = has_word(enabled, "memory"), cpu = has_word(enabled, "cpu");
  bool pressure = ::access((parent + "/cpu.pressure").c_str(), F_OK) == 0;
  bool host = ::access("/proc/pressure/cpu", F_OK) == 0;
  std::string none = "the memory controller is not enabled for task cgroups";
  return {
      pressure || host,
      "cpu time: yes; memory.peak and OOM kills: " + provided(memory, none) +
          "; cpu throttling: " + provided(cpu, "the cpu controller is not enabled for task cgroups") +
          "; the task cgroup's pressure: " + provided(pressure, "no cpu.pressure: the kernel has no PSI") +
          "; the host's pressure over the task's life and the starved hint: " +
          provided(host, "no /proc/pressure: the kernel has no PSI")};
}

}  // namespace cgspawn
