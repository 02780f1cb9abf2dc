// SPDX-License-Identifier: MIT
#include "cgroup/usage.hpp"

#include "util/file_io.hpp"

namespace cgspawn {

Usage read_usage(const Cgroup& cgroup) {
  Usage usage;
  std::string cpu = cgroup.read("cpu.stat").value_or("");
  usage.cpu_user_seconds = static_cast<double>(keyed_value(cpu, "user_usec").value_or(0)) / 1e6;
  usage.cpu_system_seconds = static_cast<double>(keyed_value(cpu, "system_usec").value_or(0)) / 1e6;
  auto peak = cgroup.read("memory.peak");
  if (peak && !peak->empty()) usage.memory_peak_bytes = std::stoull(*peak);
  if (auto events = cgroup.read("memory.events")) usage.oom_kills = keyed_value(*events, "oom_kill");
  return usage;
}

}  // namespace cgspawn
