// What a remote host has, asked in one ssh call: cgroup2 (writable?), systemd as PID 1 with
// systemd-run, cgspawn installed, timeout(1) for the agent's lease.
#pragma once

#include <string>

#include "backends/remote/ssh_command.hpp"
#include "cgspawn/capabilities.hpp"

namespace cgspawn::remote {

struct RemoteFacts {
  bool reached = false;
  std::string error;  // ssh's reason when not reached
  std::string host, cgroup2, kernel, boot_id, uid;
  bool writable = false, systemd = false, cgspawn = false, timeout = false;
};

// A connection of its own (no master is left behind). Never throws.
RemoteFacts probe_remote(const SshTarget& target);

Capabilities capabilities_from(const SshTarget& target, const RemoteFacts& facts, bool ledger, bool lease);

}  // namespace cgspawn::remote
