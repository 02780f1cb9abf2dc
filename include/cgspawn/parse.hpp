// SPDX-License-Identifier: MIT
// Parsing of the words users write: durations, sizes, CPU percentages, task ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cgspawn/task_spec.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

// "500ms", "30s", "1.5m", "2h", "250us"; a bare number is seconds. nullopt when malformed.
std::optional<Duration> parse_duration(const std::string& text);

// "512", "64K", "512M", "1.5G", "1T": powers of 1024, as systemd's MemoryMax=.
std::optional<std::uint64_t> parse_size(const std::string& text);

// "150" or "150%": percent of one CPU, as systemd's CPUQuota=. Must be 1..100000.
std::optional<std::uint32_t> parse_percent(const std::string& text);

// Task ids: [A-Za-z0-9][A-Za-z0-9._-]{0,63}, so an id is never a path.
bool valid_task_id(const std::string& id);

// A fresh random id (12 hex digits).
std::string make_task_id();

std::string format_seconds(double seconds);

// "kill", "fail", "report" (--on-leftovers). nullopt for any other name.
std::optional<LeftoversPolicy> parse_leftovers_policy(std::string_view name);
std::string_view to_string(LeftoversPolicy policy);

}  // namespace cgspawn

#pragma GCC visibility pop
