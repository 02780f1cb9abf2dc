// SPDX-License-Identifier: MIT
// Result: how a task ended, what it used, and its CleanupReport.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgspawn/cleanup_report.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

enum class ExitReason {
  exited,     // the main process exited by itself
  signaled,   // the main process died of a signal nobody from cgspawn sent
  timed_out,  // the timeout fired and cgspawn destroyed the task
  destroyed,  // destroyed on request while the main process still ran
};

std::string_view to_string(ExitReason reason);

// Why the task ended, with the evidence cgspawn holds (docs/cli.md, "exit.cause"). Data: the
// exit status does not depend on it.
enum class ExitCause {
  exited,      // the main process exited by itself
  signal,      // it died of a signal cgspawn did not send, with no OOM evidence
  timeout,     // the timeout fired
  destroyed,   // destroyed by the caller (or a signal to `cgspawn run`)
  oom_limit,   // OOM-killed within its own memory limit: the task cgroup's oom_kill count grew
  oom_host,    // killed while the host's OOM kill count grew and the task cgroup's did not
  owner_gone,  // destroyed because its owner or bound process died (reap, the binding)
};

std::string_view to_string(ExitCause cause);

struct ExitStatus {
  std::optional<int> code;    // set when the main process exited
  std::optional<int> signal;  // set when it died of a signal
  ExitReason reason = ExitReason::exited;
  ExitCause cause = ExitCause::exited;
};

struct Usage {
  double wall_seconds = 0;
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  std::optional<std::uint64_t> memory_peak_bytes;  // where the memory controller is on
  std::optional<std::uint64_t> oom_kills;          // likewise
};

struct Result {
  static constexpr int schema = 1;
  std::string id;
  std::string backend;
  std::vector<std::string> argv;
  std::map<std::string, std::string> labels;
  int main_pid = 0;  // the main program's pid on this host (0: unknown, or not a process of this host)
  ExitStatus exit;
  Usage usage;
  CleanupReport cleanup;
};

}  // namespace cgspawn

#pragma GCC visibility pop
