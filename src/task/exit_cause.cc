// SPDX-License-Identifier: MIT
#include "task/exit_cause.hpp"

#include "util/file_io.hpp"

namespace cgspawn {

ExitCause exit_cause(const ExitStatus& status, const ExitEvidence& e) {
  if (e.ended_by_cgspawn) {
    if (status.reason == ExitReason::timed_out) return ExitCause::timeout;
    return e.owner_gone ? ExitCause::owner_gone : ExitCause::destroyed;
  }
  if (!status.signal) return ExitCause::exited;
  if (e.own_oom_kills.value_or(0) > 0) return ExitCause::oom_limit;
  if (e.host_oom_kills.value_or(0) > 0) return ExitCause::oom_host;
  return ExitCause::signal;
}

std::optional<std::uint64_t> host_oom_kills() {
  auto vmstat = read_file("/proc/vmstat");
  if (!vmstat) return std::nullopt;
  auto n = keyed_value(*vmstat, "oom_kill");
  if (!n) return std::nullopt;
  return static_cast<std::uint64_t>(*n);
}

}  // namespace cgspawn
