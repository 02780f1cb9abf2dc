// SPDX-License-Identifier: MIT
// What the systemd guest tests stand on: shell commands in the guest (systemctl, runuser),
// the state of a unit as systemd reports it, and timeouts scaled for a TCG guest.
#pragma once

#include <chrono>
#include <string>

#include "cgspawn/cgspawn.hpp"

namespace cgsd {

using namespace std::chrono_literals;

struct Shell {
  int status = -1;
  std::string out;  // stdout and stderr
};
Shell sh(const std::string& command);  // /bin/sh -c COMMAND

// `base` times $CGSPAWN_GUEST_TIMEOUT_SCALE (default 1).
std::chrono::milliseconds scaled(std::chrono::milliseconds base);

// systemctl show -P PROPERTY UNIT (on the user manager of cgtest with `user`).
std::string unit_property(const std::string& unit, const std::string& property, bool user = false);
bool unit_gone(const std::string& unit, bool user = false);           // LoadState not-found, no cgroup
std::string unit_cgroup(const std::string& unit, bool user = false);  // absolute path

// `systemctl list-units 'cgspawn-*' --all --plain --no-legend` (system and cgtest's manager).
std::string cgspawn_units();

// The env prefix that makes a command run as cgtest against its user manager.
std::string as_cgtest(const std::string& command);
inline constexpr const char* kUser = "cgtest";
inline constexpr int kUid = 1500;

cgspawn::TaskSpec shell_task(const std::string& id, const std::string& script,
                             std::vector<std::string> args = {});
std::unique_ptr<cgspawn::Spawner> system_spawner();

}  // namespace cgsd
