// SPDX-License-Identifier: MIT
// What a remote host has, asked in one ssh call: cgroup2 (writable? which controllers?),
// systemd as PID 1 with systemd-run, cgspawn installed, dd(1) and sleep(1) for the agent's lease.
#pragma once

#include <optional>
#include <string>

#include "backends/remote/ssh_command.hpp"
#include "cgspawn/capabilities.hpp"

namespace cgspawn::remote {

struct RemoteFacts {
  bool reached = false;
  std::string error;  // ssh's reason when not reached
  std::string host, cgroup2, kernel, boot_id, uid;
  std::string controllers;  // enabled in the remote's root cgroup, comma separated ("-": none)
  bool writable = false, systemd = false, tools = false;  // tools: dd and sleep
  std::string cgspawn;  // the installed cgspawn's version ("" when none, "broken" when it does not run)
  std::optional<Capabilities> cgspawn_process;  // what its process backend can do there

  bool unit_path() const;     // tasks get a transient unit (systemd-run as root)
  bool cgspawn_path() const;  // else, the installed cgspawn makes the boundary
};

// A connection of its own (no master is left behind). Never throws.
RemoteFacts probe_remote(const SshTarget& target);

Capabilities capabilities_from(const SshTarget& target, const RemoteFacts& facts, bool ledger, bool lease);

}  // namespace cgspawn::remote
