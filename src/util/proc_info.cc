// SPDX-License-Identifier: MIT
#include "util/proc_info.hpp"

#include <sstream>
#include <string>

#include "util/file_io.hpp"

namespace cgspawn {
namespace {

// /proc/PID/stat is "pid (comm) state ...": comm may hold spaces and parentheses, so split
// at the last ')'.
struct StatLine {
  std::string comm;
  std::string rest;  // from the state field on
};

std::optional<StatLine> read_stat(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  auto open = text->find('(');
  auto close = text->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  StatLine line{text->substr(open + 1, close - open - 1), text->substr(close + 1)};
  return line;
}

}  // namespace

ProcessRef describe_process(pid_t pid) {
  ProcessRef ref{static_cast<int>(pid), "", ""};
  auto stat = read_stat(pid);
  if (!stat) return ref;
  ref.comm = stat->comm;
  std::istringstream in(stat->rest);
  in >> ref.state;
  return ref;
}

std::optional<unsigned long long> process_start_time(pid_t pid) {
  auto stat = read_stat(pid);
  if (!stat) return std::nullopt;
  std::istringstream in(stat->rest);
  std::string field;
  // rest starts at field 3 (state); start time is field 22.
  for (int i = 3; i < 22; ++i) in >> field;
  unsigned long long start = 0;
  if (!(in >> start)) return std::nullopt;
  return start;
}

}  // namespace cgspawn
