// SPDX-License-Identifier: MIT
// Human-readable summaries. The data is in the Result; this only lays it out.
#include "cgspawn/text.hpp"

#include <algorithm>
#include <map>
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

// "pipe_read < do_syscall_64 ...": the innermost frames tell the wait.
std::string wait_text(const std::string& wchan, const std::vector<std::string>& stack) {
  constexpr size_t kFrames = 6;
  std::string out = wchan.empty() ? "" : "in " + wchan;
  for (size_t i = 0; i < stack.size() && i < kFrames; ++i)
    out += (i ? " < " : (out.empty() ? "stack " : "; stack ")) + stack[i];
  if (stack.size() > kFrames) out += " < ...";
  return out;
}

std::string megabytes(std::optional<std::uint64_t> bytes) {
  if (!bytes) return "?";
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << static_cast<double>(*bytes) / (1 << 20) << "M";
  return out.str();
}

// The distinct kernel waits of a process's threads, with how many threads wait in each.
std::string thread_waits(const HungProcess& p) {
  std::map<std::string, int> waits;
  for (const auto& t : p.threads) ++waits[wait_text(t.wchan, t.stack)];
  std::string out;
  for (const auto& [wait, n] : waits) {
    if (wait.empty()) continue;
    out += (out.empty() ? "" : "; ") + (n > 1 ? std::to_string(n) + " threads " : std::string()) + wait;
  }
  return out;
}

// The processes as a tree, parents before children, like `ps -ejH`: (depth, process).
std::vector<std::pair<int, const HungProcess*>> as_tree(const std::vector<HungProcess>& processes) {
  std::map<int, std::vector<const HungProcess*>> children;
  std::map<int, bool> present;
  for (const auto& p : processes) present[p.pid] = true;
  for (const auto& p : processes) children[present.count(p.ppid) ? p.ppid : 0].push_back(&p);
  std::vector<std::pair<int, const HungProcess*>> out;
  std::vector<std::pair<int, const HungProcess*>> stack;
  auto push_children = [&](int parent, int depth) {
    auto& list = children[parent];
    for (auto it = list.rbegin(); it != list.rend(); ++it) stack.push_back({depth, *it});
  };
  push_children(0, 0);
  while (!stack.empty()) {
    auto [depth, p] = stack.back();
    stack.pop_back();
    out.push_back({depth, p});
    push_children(p->pid, depth + 1);
  }
  return out;
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

std::string describe(const HangReport& hang) {
  constexpr size_t kShown = 20;
  std::ostringstream out;
  size_t total = hang.processes.size() + hang.left_out;
  out << "what it was doing (" << (hang.frozen ? "frozen" : "NOT frozen") << ", " << total << " process(es)"
      << (hang.note.empty() ? "" : "; " + hang.note) << "):\n";
  auto tree = as_tree(hang.processes);
  for (size_t i = 0; i < tree.size() && i < kShown; ++i) {
    const auto& [depth, p] = tree[i];
    out << "  " << std::string(2 * static_cast<size_t>(depth), ' ') << p->pid << " " << p->state << " "
        << format_seconds(p->age_seconds) << " rss " << megabytes(p->rss_bytes) << " fds " << p->fds << "  "
        << (p->cmdline.empty() ? "[" + p->comm + "]" : p->cmdline)
        << (p->after_freeze ? "  (born while frozen)" : "") << "\n";
    if (std::string waits = thread_waits(*p); !waits.empty())
      out << "  " << std::string(2 * static_cast<size_t>(depth), ' ') << "    waits " << waits << "\n";
  }
  size_t more = total - std::min(tree.size(), kShown);
  if (more)
    out << "  ... " << more << " more (" << hang.left_out
        << " not described; the Result's \"hang\" has the rest)\n";
  return out.str();
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
    for (size_t i = 0; i < row.survivors.size() && i < kShownProcesses; ++i)
      if (std::string wait = wait_text(row.survivors[i].wchan, row.survivors[i].stack); !wait.empty())
        out << "      " << row.survivors[i].pid << " waits " << wait << "\n";
  }
  size_t unkillable = 0;
  for (const auto& row : report.resources) unkillable += row.survivors.size();
  if (unkillable)
    out << "  THE HOST NEEDS ATTENTION: " << unkillable
        << " process(es) did not die of SIGKILL (a kernel wait holds them, above); what holds them is left "
           "for `cgspawn reap` to retry\n";
  if (report.fail_on_leftovers && report.leftovers)
    out << "  LEFTOVERS: " << report.leftovers << " (--on-leftovers fail: the task fails)\n";
  for (const auto& note : report.notes) out << "  note: " << note << "\n";
  return out.str();
}

std::string describe(const Result& result) {
  std::ostringstream out;
  out << "cgspawn: task " << result.id << " (" << result.backend << ") " << describe(result.exit) << " after "
      << format_seconds(result.usage.wall_seconds) << "\n";
  if (result.usage.starved.value_or(false))
    out << "  note: the host was starved of CPU during the task (processes waited for a CPU "
        << format_seconds(result.usage.host_pressure.at("cpu").some_seconds)
        << " of its life): a timeout may be the host's doing, not a hang\n";
  if (result.hang) out << describe(*result.hang);
  out << describe(result.cleanup);
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
      << "  private IPC            " << yes_no(c.private_ipc) << "\n"
      << "  hang report            " << yes_no(c.hang_report) << "\n"
      << "  usage                  " << yes_no(c.usage) << "\n";
  return out.str();
}

}  // namespace cgspawn
