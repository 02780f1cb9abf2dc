// SPDX-License-Identifier: MIT
#include "cgspawn/parse.hpp"

#include <sys/random.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cgspawn {
namespace {

// Splits "1.5m" into 1.5 and "m". nullopt when the number part is missing or not finite.
std::optional<std::pair<double, std::string>> number_and_unit(const std::string& text) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.'))
    return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(value) || value < 0) return std::nullopt;
  return std::make_pair(value, std::string(end));
}

std::optional<double> unit_factor(const std::string& unit, std::string_view units[], const double factors[],
                                  size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (unit == units[i]) return factors[i];
  return std::nullopt;
}

}  // namespace

std::optional<Duration> parse_duration(const std::string& text) {
  auto parsed = number_and_unit(text);
  if (!parsed) return std::nullopt;
  std::string_view units[] = {"", "s", "ms", "us", "m", "min", "h"};
  const double factors[] = {1, 1, 1e-3, 1e-6, 60, 60, 3600};
  auto factor = unit_factor(parsed->second, units, factors, std::size(factors));
  if (!factor) return std::nullopt;
  double ns = parsed->first * *factor * 1e9;
  if (ns > 1e18) return std::nullopt;
  // Rounded to the nearest nanosecond without std::llround: the programs then need nothing of
  // libm, which the loader would map and relocate at every start for this one call.
  return Duration(static_cast<long long>(ns + 0.5));
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  auto parsed = number_and_unit(text);
  if (!parsed) return std::nullopt;
  std::string_view units[] = {"", "K", "M", "G", "T"};
  const double factors[] = {1, 1024.0, 1024.0 * 1024, 1024.0 * 1024 * 1024, 1024.0 * 1024 * 1024 * 1024};
  auto factor = unit_factor(parsed->second, units, factors, std::size(factors));
  if (!factor) return std::nullopt;
  double bytes = std::floor(parsed->first * *factor);
  if (bytes < 1 || bytes > 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

std::optional<std::uint32_t> parse_percent(const std::string& text) {
  std::string digits = text;
  if (!digits.empty() && digits.back() == '%') digits.pop_back();
  if (digits.empty() || digits.size() > 6) return std::nullopt;
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  unsigned long value = std::stoul(digits);
  if (value < 1 || value > 100000) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

bool valid_task_id(const std::string& id) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (id.empty() || id.size() > 64 || !alnum(id[0])) return false;
  for (char c : id)
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

std::string make_task_id() {
  unsigned char bytes[6];
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // getrandom cannot fail for 6 bytes once the pool is ready; fall back to the clock anyway.
    auto t = static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (auto& b : bytes) b = static_cast<unsigned char>(t >>= 8);
  }
  char out[13];
  for (size_t i = 0; i < sizeof bytes; ++i) std::snprintf(out + 2 * i, 3, "%02x", bytes[i]);
  return out;
}

std::string format_seconds(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, seconds < 10 ? "%.3fs" : "%.1fs", seconds);
  return buf;
}

}  // namespace cgspawn
