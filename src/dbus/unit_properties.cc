// SPDX-License-Identifier: MIT
#include "dbus/unit_properties.hpp"

#include <chrono>

namespace cgspawn::dbus {
namespace {

// The alternative is named: a string literal must not become the bool.
template <typename T>
UnitProperty prop(const std::string& name, T value) {
  return UnitProperty{name, PropertyValue(std::in_place_type<T>, std::move(value))};
}

constexpr const char* kLedgerMark = " [ledger ";

}  // namespace

std::string unit_description(const TaskSpec& spec, const std::string& ledger_dir) {
  std::string text =
      "cgspawn task " + spec.id + (ledger_dir.empty() ? "" : kLedgerMark + ledger_dir + "]") + ":";
  for (const auto& arg : spec.argv) {
    if (text.size() > 200 + ledger_dir.size()) return text + " ...";
    text += " " + arg;
  }
  return text;
}

std::string ledger_of_description(const std::string& description) {
  auto start = description.find(kLedgerMark);
  if (start == std::string::npos) return "";
  start += std::string(kLedgerMark).size();
  auto end = description.find("]:", start);
  return end == std::string::npos ? "" : description.substr(start, end - start);
}

std::string unit_name(const std::string& id, const std::string& unit_type) {
  return kUnitPrefix + id + "." + unit_type;
}

UnitProperties task_unit_properties(const TaskSpec& spec, const std::string& ledger_dir, unsigned extra_tasks,
                                    const std::string& collect_mode) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  UnitProperties p;
  p.push_back(prop("Description", unit_description(spec, ledger_dir)));
  // Unloaded as soon as it is inactive (by default failed or not): nothing of the task lingers.
  p.push_back(prop("CollectMode", collect_mode));
  const Limits& l = spec.limits;
  if (l.memory_max_bytes) {
    p.push_back(prop("MemoryMax", std::uint64_t{*l.memory_max_bytes}));
    p.push_back(prop("MemorySwapMax", std::uint64_t{0}));  // else the limit leaks into swap
  }
  if (l.pids_max) p.push_back(prop("TasksMax", tasks_max_for(*l.pids_max, extra_tasks)));
  if (l.cpu_max_percent) p.push_back(prop("CPUQuotaPerSecUSec", cpu_quota_usec(*l.cpu_max_percent)));
  // systemd's own stop (daemon shutdown, a user's systemctl stop) keeps cgspawn's grace.
  auto grace = static_cast<std::uint64_t>(duration_cast<microseconds>(spec.grace).count());
  p.push_back(prop("TimeoutStopUSec", grace));
  p.push_back(prop("SendSIGKILL", true));
  // The kernel's OOM kill takes the one process and shows in the Result (oom_kills); systemd's
  // default for scopes (stop the whole unit) would decide the task's fate instead of cgspawn.
  p.push_back(prop("OOMPolicy", std::string("continue")));
  return p;
}

UnitProperties delegated_scope_properties(const std::string& description, pid_t pid) {
  UnitProperties p;
  p.push_back(prop("Description", description));
  p.push_back(prop("CollectMode", std::string("inactive-or-failed")));
  p.push_back(prop("Delegate", true));
  p.push_back(prop("PIDs", std::vector<std::uint32_t>{static_cast<std::uint32_t>(pid)}));
  return p;
}

void add_scope_processes(UnitProperties& properties, const ScopeProcesses& processes) {
  if (processes.handover == PidHandover::pidfds) {
    std::vector<UnixFd> fds;
    for (int fd : processes.pidfds) fds.push_back({fd});
    properties.push_back(prop("PIDFDs", std::move(fds)));
    return;
  }
  std::vector<std::uint32_t> pids(processes.pids.begin(), processes.pids.end());
  properties.push_back(prop("PIDs", std::move(pids)));
}

void add_service_exec(UnitProperties& properties, const ServiceExec& exec) {
  // systemd expands $NAME and ${NAME} in ExecStart's arguments when it executes them; "$$" is
  // its escape for a literal "$", so the task gets exactly its argv.
  std::vector<std::string> argv;
  for (const auto& arg : exec.argv) {
    std::string escaped;
    for (char c : arg) escaped += c == '$' ? std::string("$$") : std::string(1, c);
    argv.push_back(std::move(escaped));
  }
  properties.push_back(prop("ExecStart", std::vector<ExecCommand>{{exec.program, argv, false}}));
  // exec: the start job fails when the program cannot be executed, as spawn must.
  properties.push_back(prop("Type", std::string("exec")));
  // The unit stays (active, exited) after its main process ends, so ExecMain* can be read.
  properties.push_back(prop("RemainAfterExit", true));
  properties.push_back(prop("Environment", exec.environment));
  properties.push_back(prop("WorkingDirectory", exec.cwd));
  properties.push_back(prop("StandardInputFileDescriptor", UnixFd{exec.stdio[0]}));
  properties.push_back(prop("StandardOutputFileDescriptor", UnixFd{exec.stdio[1]}));
  properties.push_back(prop("StandardErrorFileDescriptor", UnixFd{exec.stdio[2]}));
  if (exec.private_tmp) {
    properties.push_back(prop("PrivateTmp", true));
    properties.push_back(
        prop("TemporaryFileSystem", std::vector<TemporaryFileSystem>{{"/dev/shm", "mode=1777"}}));
    if (!exec.scratch.empty()) {
      properties.push_back(prop("BindPaths", std::vector<BindPath>{{exec.scratch, exec.scratch, false, 0}}));
    }
  }
  if (exec.private_ipc) properties.push_back(prop("PrivateIPC", true));
}

}  // namespace cgspawn::dbus
