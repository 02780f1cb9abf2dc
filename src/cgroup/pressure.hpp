// SPDX-License-Identifier: MIT
// Pressure stall information (the kernel's PSI): how long processes waited for cpu, memory and
// io, of a cgroup (its *.pressure files) or of the whole host (/proc/pressure/*).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "cgspawn/result.hpp"

namespace cgspawn {

// "some avg10=0.00 avg60=0.00 avg300=0.00 total=123\nfull ... total=45" (microseconds).
std::optional<Stall> parse_stall(const std::string& text);

// cpu, memory and io, each where `read("cpu.pressure")` (and so on) gives a parsable file.
std::map<std::string, Stall> read_stalls(
    const std::function<std::optional<std::string>(const std::string&)>& read);

// The host's, from /proc/pressure: empty where the kernel has no PSI.
std::map<std::string, Stall> host_stalls();

// How much each stall grew from `before` to `after`, for the resources both have.
std::map<std::string, Stall> stall_growth(const std::map<std::string, Stall>& before,
                                          const std::map<std::string, Stall>& after);

// Usage::starved from the host's growth over a task's life of `wall_seconds`; nullopt without
// host CPU pressure.
std::optional<bool> starved(const std::map<std::string, Stall>& host_growth, double wall_seconds);

}  // namespace cgspawn
