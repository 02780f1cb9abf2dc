// SPDX-License-Identifier: MIT
// Why a task ended (ExitCause), from the evidence cgspawn holds when it finishes the task: who
// ended it, and the OOM kill counts of the task cgroup and of the host over the task's life.
// As HTCondor tells them apart: an OOM kill inside the task's own limit shows in its cgroup's
// memory.events; one by the host (an ancestor's limit, or the host out of memory) shows only in
// the host's count.
#pragma once

#include <cstdint>
#include <optional>

#include "cgspawn/result.hpp"

namespace cgspawn {

struct ExitEvidence {
  bool ended_by_cgspawn = false;                // the main process still ran when cgspawn destroyed the task
  bool owner_gone = false;                      // ... because its owner or bound process died
  std::optional<std::uint64_t> own_oom_kills;   // the task cgroup's oom_kill count (nullopt: unknown)
  std::optional<std::uint64_t> host_oom_kills;  // how much the host's count grew over the task's life
};

ExitCause exit_cause(const ExitStatus& status, const ExitEvidence& evidence);

// The host's OOM kill count (/proc/vmstat oom_kill), nullopt where the kernel does not say.
std::optional<std::uint64_t> host_oom_kills();

}  // namespace cgspawn
