// The properties of a task's transient unit: what systemd-run would pass for the same task.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "backends/systemd/manager.hpp"
#include "cgspawn/task_spec.hpp"

namespace cgspawn::systemd {

inline constexpr const char* kUnitPrefix = "cgspawn-";  // fixed and tool-unique: list/reap find units by it

std::string unit_name(const std::string& id, const std::string& unit_type);  // cgspawn-<id>.scope

// How the scope's processes are handed over: pidfds (systemd >= 255) or pids.
enum class PidHandover { pidfds, pids };

struct ScopeProcesses {
  std::vector<pid_t> pids;
  std::vector<int> pidfds;  // the same processes, as pidfds
  PidHandover handover = PidHandover::pidfds;
};

struct ServiceExec {
  std::string program;                  // resolved path
  std::vector<std::string> argv;
  std::vector<std::string> environment;  // complete NAME=VALUE list
  std::string cwd;                       // absolute
  int stdio[3] = {0, 1, 2};              // handed to systemd as file descriptors
};

// "cgspawn task ID [ledger DIR]: ARGV...": the ledger part marks the unit as that ledger's
// (the unit's own xattr, as cgroups have: `reap --orphans` destroys only its own).
std::string unit_description(const TaskSpec& spec, const std::string& ledger_dir);
// The DIR of a description made by unit_description ("" when it names none).
std::string ledger_of_description(const std::string& description);

// Description, CollectMode=inactive-or-failed, the limits (MemoryMax with MemorySwapMax=0,
// TasksMax, CPUQuotaPerSecUSec), TimeoutStopUSec from the grace and SendSIGKILL=yes.
// `extra_tasks`: processes of cgspawn's own in the unit, added to TasksMax.
std::vector<Property> common_properties(const TaskSpec& spec, const std::string& ledger_dir, unsigned extra_tasks);

void add_scope_processes(std::vector<Property>& properties, const ScopeProcesses& processes);
void add_service_exec(std::vector<Property>& properties, const ServiceExec& exec);

// The unit's TasksMax for a limit of `pids_max` processes of the task's own.
inline std::uint64_t tasks_max_for(std::uint64_t pids_max, unsigned extra_tasks) { return pids_max + extra_tasks; }

// CPUQuotaPerSecUSec for a percentage of one CPU (100 = one whole CPU).
inline std::uint64_t cpu_quota_usec(std::uint32_t percent) { return std::uint64_t{percent} * 10'000; }

}  // namespace cgspawn::systemd
