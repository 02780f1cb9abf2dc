// SPDX-License-Identifier: MIT
// Human-readable summaries. The data is in the Result; this only lays it out.
#include "cgspawn/text.hpp"

#include <sstream>

#include "cgspawn/parse.hpp"

namespace cgspawn {
namespace {

constexpr size_t kShownProcesses = 8;

std::string process_list(const std::vector<ProcessRef>& processes, size_t total) {
  std::ostringstream out;
  for (size_t i = 0; i < processes.size() && i < kShownProcesses; ++i)
    out << (i ? " " : "") << processes[i].comm << "[" << processes[i].pid << "]"
        << (processes[i].state.empty() ? "" : "(" + processes[i].state + ")");
  if (total > kShownProcesses) out << " ... (" << total << " in all)";
  return out.str();
}

std::string yes_no(const Capability& c) {
  return (c.available ? "yes  " : "no   ") + c.reason;
}

}  // namespace

std::string describe(const ExitStatus& exit) {
  std::string how = exit.code     ? "exit code " + std::to_string(*exit.code)
                    : exit.signal ? "signal " + std::to_string(*exit.signal)
                                  : "no exit status";
  // The causes the reason does not tell by itself.
  if (exit.cause == ExitCause::oom_limit) how += ", OOM-killed within its own memory limit";
  if (exit.cause == ExitCause::oom_host)
    how += ", while the host's OOM killer was at work (not its own limit)";
  if (exit.cause == ExitCause::owner_gone) how += ", its owner gone";
  switch (exit.reason) {
    case ExitReason::exited:
      return "exited with " + how;
    case ExitReason::signaled:
      return "died of " + how;
    case ExitReason::timed_out:
      return "timed out and was destroyed (" + how + ")";
    case ExitReason::destroyed:
      return "was destroyed on request (" + how + ")";
  }
  return how;
}

std::string describe(const CleanupReport& report) {
  std::ostringstream out;
  out << "cleanup " << (report.complete() ? "complete" : "NOT complete") << ":\n";
  for (const auto& row : report.resources) {
    out << "  " << to_string(row.resource.kind) << " " << row.resource.id << ": " << to_string(row.outcome)
        << " in " << format_seconds(row.seconds);
    if (!row.detail.empty()) out << " (" << row.detail << ")";
    out << "\n";
    if (row.killed_total) out << "    killed " << process_list(row.killed, row.killed_total) << "\n";
    if (!row.survivors.empty())
      out << "    SURVIVORS " << process_list(row.survivors, row.survivors.size()) << "\n";
  }
  if (report.fail_on_leftovers && report.leftovers)
    out << "  LEFTOVERS: " << report.leftovers << " (--on-leftovers fail: the task fails)\n";
  for (const auto& note : report.notes) out << "  note: " << note << "\n";
  return out.str();
}

std::string describe(const Result& result) {
  std::ostringstream out;
  out << "cgspawn: task " << result.id << " (" << result.backend << ") " << describe(result.exit) << " after "
      << format_seconds(result.usage.wall_seconds) << "\n"
      << describe(result.cleanup);
  return out.str();
}

std::string describe(const Capabilities& c) {
  std::ostringstream out;
  out << c.backend << ": " << (c.usable.available ? "usable" : "NOT usable") << " (" << c.usable.reason
      << ")\n"
      << "  kill all descendants   " << yes_no(c.kill_all) << "\n"
      << "  verify they are gone   " << yes_no(c.verify) << "\n"
      << "  survives caller crash  " << yes_no(c.survives_caller_crash) << "\n"
      << "  follow by descent      " << yes_no(c.lineage) << "\n"
      << "  limit memory           " << yes_no(c.memory_max) << "\n"
      << "  limit pids             " << yes_no(c.pids_max) << "\n"
      << "  limit cpu              " << yes_no(c.cpu_max) << "\n"
      << "  scratch directory      " << yes_no(c.scratch) << "\n"
      << "  private /tmp           " << yes_no(c.private_tmp) << "\n"
      << "  private IPC            " << yes_no(c.private_ipc) << "\n";
  return out.str();
}

}  // namespace cgspawn
