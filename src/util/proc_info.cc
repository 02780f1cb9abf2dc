// SPDX-License-Identifier: MIT
#include "util/proc_info.hpp"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>

#include "util/file_io.hpp"
#include "util/pidfd.hpp"

namespace cgspawn {
namespace {

// The `n`th space-separated field of `text` from `from` on (0: the first), or "".
std::string field_at(const std::string& text, std::size_t from, int n) {
  std::size_t at = text.find_first_not_of(' ', from);
  for (; n > 0 && at != std::string::npos; --n) at = text.find_first_not_of(' ', text.find(' ', at));
  if (at == std::string::npos) return "";
  return text.substr(at, text.find(' ', at) - at);
}

}  // namespace

// /proc/PID/stat is "pid (comm) state ...": comm may hold spaces and parentheses, so the
// fields after it are counted from the last ')'.
std::optional<ProcessStat> process_stat(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  auto open = text->find('(');
  auto close = text->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  // From the ')' on: field 3 (state) first, then the parent; the start time is field 22.
  std::string start = field_at(*text, close + 1, 22 - 3);
  if (start.empty()) return std::nullopt;
  return ProcessStat{text->substr(open + 1, close - open - 1), field_at(*text, close + 1, 0),
                     std::strtoull(start.c_str(), nullptr, 10),
                     static_cast<pid_t>(std::strtol(field_at(*text, close + 1, 1).c_str(), nullptr, 10))};
}

ProcessRef describe_process(pid_t pid) {
  ProcessRef ref{static_cast<int>(pid), "", ""};
  if (auto stat = process_stat(pid)) {
    ref.comm = std::move(stat->comm);
    ref.state = std::move(stat->state);
  }
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
  auto stat = process_stat(pid);
  if (!stat) return std::nullopt;
  return stat->start_time;
}

UniqueFd open_pinned_pidfd(pid_t pid, unsigned long long start_time) {
  if (pid <= 0) return UniqueFd();
  UniqueFd fd = open_pidfd(pid);
  if (fd.valid() && process_start_time(pid) != start_time) fd.reset();
  return fd;
}

}  // namespace cgspawn
