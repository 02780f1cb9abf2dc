// SPDX-License-Identifier: MIT
#include "cgroup/pressure.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include "util/text_items.hpp"

namespace cgspawn {
namespace {

constexpr const char* kResources[] = {"cpu", "memory", "io"};

// The total= of the line that starts with `kind` ("some", "full"), in seconds: nullopt without
// such a line or its total=; a total= that is not a number throws (parse_stall: no stall).
// Views, not streams: every task reads six of these files at its end (bench [7]).
std::optional<double> total_of(std::string_view text, std::string_view kind) {
  while (!text.empty()) {
    std::string_view line = take_item(text, '\n');
    if (line.size() <= kind.size() || line.substr(0, kind.size()) != kind || line[kind.size()] != ' ')
      continue;
    auto at = line.find("total=");
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view digits = line.substr(at + 6);
    unsigned long long usec = 0;
    auto [rest, error] = std::from_chars(digits.data(), digits.data() + digits.size(), usec);
    if (error != std::errc() || rest == digits.data()) throw std::invalid_argument("total= is not a number");
    return static_cast<double>(usec) / 1e6;
  }
  return std::nullopt;
}

// The host's /proc/pressure files, opened once per process: every task reads the three at its
// start and at its end, and opening them was most of that cost (bench [7]). pread at offset 0,
// so threads can share them; an fd that no longer is the file it was (closed and its number
// reused by a caller's closefrom) is opened again.
class HostPressureFiles {
 public:
  // `resource`: cpu, memory or io.
  std::optional<std::string> read(const std::string& resource) {
    std::lock_guard lock(mutex_);
    File& f = files_[resource];
    struct stat now {};
    if (f.fd < 0 || ::fstat(f.fd, &now) != 0 || now.st_ino != f.ino || now.st_dev != f.dev)
      reopen(resource, f);
    if (f.fd < 0) return std::nullopt;
    char buf[1024];
    ssize_t n = ::pread(f.fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  struct File {
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
  };

  static void reopen(const std::string& resource, File& f) {
    f.fd = ::open(("/proc/pressure/" + resource).c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (f.fd >= 0 && ::fstat(f.fd, &st) == 0) {
      f.dev = st.st_dev;
      f.ino = st.st_ino;
    }
  }

  std::mutex mutex_;
  std::map<std::string, File> files_;
};

}  // namespace

std::optional<Stall> parse_stall(const std::string& text) {
  try {
    std::optional<double> some = total_of(text, "some");
    if (!some) return std::nullopt;
    return Stall{*some, total_of(text, "full")};
  } catch (const std::exception&) {  // a total= that is not a number
    return std::nullopt;
  }
}

std::map<std::string, Stall> read_stalls(
    const std::function<std::optional<std::string>(const std::string&)>& read) {
  std::map<std::string, Stall> stalls;
  for (const char* resource : kResources)
    if (auto text = read(std::string(resource) + ".pressure"))
      if (auto stall = parse_stall(*text)) stalls[resource] = *stall;
  return stalls;
}

std::map<std::string, Stall> host_stalls() {
  static HostPressureFiles files;
  return read_stalls([](const std::string& file) { return files.read(file.substr(0, file.find('.'))); });
}

std::map<std::string, Stall> stall_growth(const std::map<std::string, Stall>& before,
                                          const std::map<std::string, Stall>& after) {
  std::map<std::string, Stall> growth;
  for (const auto& [resource, now] : after) {
    auto then = before.find(resource);
    if (then == before.end()) continue;
    Stall g{now.some_seconds - then->second.some_seconds, std::nullopt};
    if (now.full_seconds && then->second.full_seconds)
      g.full_seconds = *now.full_seconds - *then->second.full_seconds;
    growth[resource] = g;
  }
  return growth;
}

std::optional<bool> starved(const std::map<std::string, Stall>& host_growth, double wall_seconds) {
  auto cpu = host_growth.find("cpu");
  if (cpu == host_growth.end() || wall_seconds <= 0) return std::nullopt;
  return cpu->second.some_seconds >= Usage::kStarvedShare * wall_seconds;
}

}  // namespace cgspawn
