// SPDX-License-Identifier: MIT
// What the guest tests stand on: the delegated cgroup of run-in-guest.sh's unit
// ($CGTEST_DELEGATED_CGROUP, pure cgroup v2 with memory/pids/cpu/io enabled for its children),
// per-test parent cgroups below it, timeouts scaled for TCG, and small readers.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host.hpp"

namespace cgguest {

using namespace std::chrono_literals;

// $CGTEST_DELEGATED_CGROUP ("" when unset).
std::string delegated();

// Every cgroup this suite names starts with this: "cgspawn-guest-<pid>-<n>".
inline constexpr const char* kPrefix = "cgspawn-guest-";
std::string unique_name();

// `base` times $CGSPAWN_GUEST_TIMEOUT_SCALE (default 1; the bases are already generous for a
// TCG guest, 20-40x slower than the host).
std::chrono::milliseconds scaled(std::chrono::milliseconds base);

// A parent cgroup of the test's own: $CGTEST_DELEGATED_CGROUP/cgspawn-guest-<pid>-<n>, a child
// of the delegated cgroup (which holds no processes: the runner sits in its "harness" leaf).
// Not created here: cgspawn makes it (and enables the controllers in it). The destructor kills
// and removes whatever is left below it, even when the test failed.
class GuestParent {
 public:
  GuestParent();  // throws std::runtime_error when not in the guest
  ~GuestParent();
  GuestParent(const GuestParent&) = delete;
  GuestParent& operator=(const GuestParent&) = delete;

  const std::string& path() const { return path_; }
  std::string task_path(const std::string& id) const { return path_ + "/cgspawn-" + id; }
  std::string relative() const;               // as /proc/PID/cgroup shows it
  std::vector<std::string> children() const;  // names of the cgroups below it

 private:
  std::string path_;
};

// The first line of a cgroup file (or any file), without the newline; "" when unreadable.
std::string first_line(const std::string& path);
// "key value" lines (cpu.stat, pids.events, memory.events): the value of `key`, -1 if absent.
long long keyed(const std::string& text, const std::string& key);

nlohmann::json read_json(const std::string& path);  // throws when missing or not JSON

// $CGSPAWN_GUEST_HELPER, tests/guest/guest_helper.cc.
std::string guest_helper();

}  // namespace cgguest
