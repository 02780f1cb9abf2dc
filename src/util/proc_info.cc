// SPDX-License-Identifier: MIT
#include "util/proc_info.hpp"

#include <dirent.h>

#include <algorithm>
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

std::vector<pid_t> thread_ids(pid_t pid, std::size_t cap) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!dir) return out;
  while (dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.' && out.size() < cap) out.push_back(static_cast<pid_t>(std::stol(e->d_name)));
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

KernelWait kernel_wait(pid_t pid, pid_t tid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/";
  KernelWait wait;
  wait.wchan = read_file(dir + "wchan").value_or("");
  if (wait.wchan == "0") wait.wchan.clear();  // running, or the kernel hides it
  std::istringstream stack(read_file(dir + "stack").value_or(""));
  // "[<0>] do_freezer_trap+0x45/0x60": the function is what tells the wait; offsets are noise.
  for (std::string line; std::getline(stack, line);) {
    auto from = line.find("] ");
    std::string frame = from == std::string::npos ? line : line.substr(from + 2);
    frame = frame.substr(0, frame.find('+'));
    if (!frame.empty()) wait.stack.push_back(frame);
  }
  return wait;
}

ProcessRef describe_survivor(pid_t pid) {
  ProcessRef ref = describe_process(pid);
  KernelWait wait = kernel_wait(pid, pid);
  ref.wchan = std::move(wait.wchan);
  ref.stack = std::move(wait.stack);
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
