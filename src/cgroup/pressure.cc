// SPDX-License-Identifier: MIT
#include "cgroup/pressure.hpp"

#include <sstream>

#include "util/file_io.hpp"

namespace cgspawn {
namespace {

constexpr const char* kResources[] = {"cpu", "memory", "io"};

// The total= of the line that starts with `kind` ("some", "full"), in seconds.
std::optional<double> total_of(const std::string& text, const std::string& kind) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(kind + " ", 0) != 0) continue;
    auto at = line.find("total=");
    if (at == std::string::npos) return std::nullopt;
    return static_cast<double>(std::stoull(line.substr(at + 6))) / 1e6;
  }
  return std::nullopt;
}

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
  return read_stalls(
      [](const std::string& file) { return read_file("/proc/pressure/" + file.substr(0, file.find('.'))); });
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
