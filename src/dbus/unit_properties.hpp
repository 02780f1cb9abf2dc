// SPDX-License-Identifier: MIT
// The properties of a task's transient unit: what systemd-run would pass for the same task.
// Plain values, one alternative per D-Bus type systemd takes: the D-Bus module
// (src/dbus/sdbus/) marshals them, so nothing outside it needs sdbus-c++.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cgspawn/task_spec.hpp"

namespace cgspawn::dbus {

inline constexpr const char* kUnitPrefix = "cgspawn-";  // fixed and tool-unique: list/reap find units by it

std::string unit_name(const std::string& id, const std::string& unit_type);  // cgspawn-<id>.scope

// "cgspawn task ID [ledger DIR]: ARGV...": the ledger part marks the unit as that ledger's
// (the unit's own xattr, as cgroups have: `reap --orphans` destroys only its own).
std::string unit_description(const TaskSpec& spec, const std::string& ledger_dir);
// The DIR of a description made by unit_description ("" when it names none).
std::string ledger_of_description(const std::string& description);

// How a scope's processes are handed over: pidfds (systemd >= 255) or pids.
enum class PidHandover { pidfds, pids };

struct ScopeProcesses {
  std::vector<pid_t> pids;
  std::vector<int> pidfds;  // the same processes, as pidfds
  PidHandover handover = PidHandover::pidfds;
};

struct ServiceExec {
  std::string program;  // resolved path
  std::vector<std::string> argv;
  std::vector<std::string> environment;  // complete NAME=VALUE list
  std::string cwd;                       // absolute
  int stdio[3] = {0, 1, 2};              // handed to systemd as file descriptors
  // PrivateTmp= (with a tmpfs on /dev/shm, which PrivateTmp= leaves shared) and PrivateIPC=;
  // `scratch` is bound back into the private /var/tmp or /tmp when it lies there.
  bool private_tmp = false;
  bool private_ipc = false;
  std::string scratch;
};

// A file descriptor handed to systemd (the bus sends a copy: the caller keeps its own).
struct UnixFd {
  int fd = -1;
};
struct ExecCommand {  // ExecStart's a(sasb)
  std::string path;
  std::vector<std::string> argv;
  bool ignore_failure = false;
};
struct TemporaryFileSystem {  // a(ss)
  std::string path, options;
};
struct BindPath {  // a(ssbt)
  std::string source, destination;
  bool ignore_missing = false;
  std::uint64_t flags = 0;
};

using PropertyValue =
    std::variant<bool, std::uint64_t, std::string, std::vector<std::uint32_t>, std::vector<std::string>,
                 UnixFd, std::vector<UnixFd>, std::vector<ExecCommand>, std::vector<TemporaryFileSystem>,
                 std::vector<BindPath>>;

struct UnitProperty {
  std::string name;
  PropertyValue value;
};

// StartTransientUnit's a(sv), in order.
using UnitProperties = std::vector<UnitProperty>;

// Description, CollectMode (`collect_mode`), the limits (MemoryMax with MemorySwapMax=0,
// TasksMax, CPUQuotaPerSecUSec), TimeoutStopUSec from the grace, SendSIGKILL=yes and
// OOMPolicy=continue. `extra_tasks`: processes of cgspawn's own in the unit, added to TasksMax.
UnitProperties task_unit_properties(const TaskSpec& spec, const std::string& ledger_dir, unsigned extra_tasks,
                                    const std::string& collect_mode = "inactive-or-failed");

// A scope of cgspawn's own for already running processes (DelegatedScope): Description,
// CollectMode, Delegate=yes and the pids.
UnitProperties delegated_scope_properties(const std::string& description, pid_t pid);

void add_scope_processes(UnitProperties& properties, const ScopeProcesses& processes);
void add_service_exec(UnitProperties& properties, const ServiceExec& exec);

// The unit's TasksMax for a limit of `pids_max` processes of the task's own.
inline std::uint64_t tasks_max_for(std::uint64_t pids_max, unsigned extra_tasks) {
  return pids_max + extra_tasks;
}

// CPUQuotaPerSecUSec for a percentage of one CPU (100 = one whole CPU).
inline std::uint64_t cpu_quota_usec(std::uint32_t percent) {
  return std::uint64_t{percent} * 10'000;
}

}  // namespace cgspawn::dbus
