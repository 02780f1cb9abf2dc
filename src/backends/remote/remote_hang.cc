// SPDX-License-Identifier: MIT
#include "backends/remote/remote_hang.hpp"

#include <charconv>
#include <map>
#include <sstream>

namespace cgspawn::remote {
namespace {

long long as_number(const std::string& text) {
  long long value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// "HANG-CMD pid=12 sleep 100": what follows the pid (the agent's arguments end in a space).
std::string rest_after_pid(const Marker& m) {
  auto space = m.text.find(' ', m.text.find("pid="));
  std::string rest = space == std::string::npos ? "" : m.text.substr(space + 1);
  while (!rest.empty() && rest.back() == ' ') rest.pop_back();
  return rest;
}

std::vector<std::string> split_on(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, separator);)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Collected {
  std::map<int, HungProcess> processes;
  std::map<int, std::vector<HungThread>> waits;  // read before the freeze
  std::map<int, std::string> state_before;
};

void collect(const Marker& m, Collected& c) {
  int pid = static_cast<int>(as_number(m.field("pid")));
  HungProcess& p = c.processes[pid];
  if (m.word == "HANG-PROC") {
    p.pid = pid;
    p.ppid = static_cast<int>(as_number(m.field("ppid")));
    p.state = m.field("state");
    p.age_seconds = static_cast<double>(as_number(m.field("age_cs"))) / 100;
    p.rss_bytes = static_cast<std::uint64_t>(as_number(m.field("rss")));
    p.fds = static_cast<std::size_t>(as_number(m.field("fds")));
    p.after_freeze = m.field("after") == "1";
    p.comm = m.field("comm");
  } else if (m.word == "HANG-CWD") {
    p.cwd = rest_after_pid(m);
  } else if (m.word == "HANG-CMD") {
    p.cmdline = rest_after_pid(m);
  } else if (m.word == "HANG-FILES") {
    for (auto& file : split_on(rest_after_pid(m), ' ')) {
      if (auto eq = file.find('='); eq != std::string::npos) file[eq] = ' ';
      p.open_files.push_back(file);
    }
  }
}

}  // namespace

std::optional<HangReport> hang_from_markers(const std::vector<Marker>& markers, const std::string& host) {
  Collected c;
  std::optional<HangReport> report;
  for (const auto& m : markers) {
    if (m.word == "HANG-WAIT") {
      int pid = static_cast<int>(as_number(m.field("pid"))),
          tid = static_cast<int>(as_number(m.field("tid")));
      if (c.waits[pid].size() < 16)
        c.waits[pid].push_back({tid, m.field("wchan"), split_on(m.field("stack"), ',')});
      if (pid == tid) c.state_before[pid] = m.field("state");
    } else if (m.word == "HANG-END") {
      report = HangReport{};
      report->frozen = m.field("frozen") == "1";
      report->left_out = static_cast<std::size_t>(as_number(m.field("total")));
    } else if (m.word.rfind("HANG-", 0) == 0) {
      collect(m, c);
    }
  }
  if (!report || report->left_out == 0) return std::nullopt;  // no cgroup, or nothing in it
  for (auto& [pid, p] : c.processes) {
    if (p.pid == 0) continue;  // lines of a process the agent did not describe
    if (!p.after_freeze && c.state_before.count(pid)) p.state = c.state_before[pid];
    p.threads = std::move(c.waits[pid]);
    report->processes.push_back(std::move(p));
  }
  report->left_out -= std::min(report->left_out, report->processes.size());
  report->note = "taken on " + host + " by the agent (pids are the remote's)" +
                 (report->frozen ? "" : "; not frozen: the list may have changed while it was read");
  return report;
}

}  // namespace cgspawn::remote
