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

// Pressure stall time of one resource (cpu, memory, io): how long some (or all) runnable
// processes waited for it, in seconds (the "total=" of the kernel's PSI files).
struct Stall {
  double some_seconds = 0;
  std::optional<double> full_seconds;  // absent where the kernel has no "full" line
};

struct Usage {
  double wall_seconds = 0;
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  std::optional<std::uint64_t> memory_peak_bytes;  // where the memory controller is on
  std::optional<std::uint64_t> oom_kills;          // likewise
  // cpu.stat's throttling, where the cpu controller is on (a --cpu-max or a parent's quota).
  std::optional<std::uint64_t> cpu_throttled_periods;
  std::optional<double> cpu_throttled_seconds;
  // The task cgroup's cpu/memory/io pressure totals at its end, by resource; and the host's
  // (/proc/pressure) over the task's life. A resource the host does not report is absent.
  std::map<std::string, Stall> pressure;
  std::map<std::string, Stall> host_pressure;
  // The host's CPU "some" pressure over the task's life reached kStarvedShare of its wall time:
  // a timeout may be the host's doing rather than a hang. Absent without host CPU pressure.
  std::optional<bool> starved;
  static constexpr double kStarvedShare = 0.5;
};

// What one thread was waiting for, read before the task was frozen.
struct HungThread {
  int tid = 0;
  std::string wchan;               // the kernel function it sleeps in ("" where unreadable)
  std::vector<std::string> stack;  // its kernel stack, innermost first (root only; else empty)
};

// One process of a task that was destroyed while it ran, as it was when cgspawn acted.
struct HungProcess {
  int pid = 0;
  int ppid = 0;
  std::string state;  // the one-letter state from /proc/PID/stat (before freezing)
  std::string comm;
  std::string cmdline;  // arguments joined by spaces
  std::string cwd;
  double age_seconds = 0;
  std::optional<std::uint64_t> rss_bytes;
  std::size_t fds = 0;                  // open file descriptors
  std::vector<std::string> open_files;  // what some of them are: paths, socket:[N], pipe:[N] (capped)
  std::vector<HungThread> threads;      // capped
  bool after_freeze = false;            // first seen once the cgroup was frozen (born meanwhile)
};

// The hang report: the task's processes when cgspawn destroyed it while its main program ran.
struct HangReport {
  bool frozen = false;  // the task cgroup was frozen for the snapshot, so the list is consistent
  std::vector<HungProcess> processes;
  std::size_t left_out = 0;  // processes beyond the cap, not described
  std::string note;          // why it is incomplete (not frozen, unreadable), or empty
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
  std::optional<HangReport> hang;  // when destroyed while its main program ran (unless turned off)
  CleanupReport cleanup;
};

}  // namespace cgspawn

#pragma GCC visibility pop
