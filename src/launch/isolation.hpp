// SPDX-License-Identifier: MIT
// --private-tmp and --private-ipc, set up by the task's own child before exec (the process
// backend, and the systemd backend's scopes, which have no exec settings): a mount namespace
// whose /tmp, /var/tmp and /dev/shm are empty tmpfs of the task's own, gone by construction
// when its last process is; an IPC namespace (SysV IPC, POSIX message queues, with its own
// /dev/mqueue). Mounts of the host still reach the task (slave propagation); its own never
// reach the host.
#pragma once

#include <string>

#include "cgspawn/capabilities.hpp"

namespace cgspawn {

struct Isolation {
  bool private_tmp = false;
  bool private_ipc = false;
  // The task's scratch directory: when it lies under a directory --private-tmp replaces, it
  // is bound back into place inside the new /tmp (or /var/tmp), so the task still reaches it.
  std::string scratch;

  bool any() const { return private_tmp || private_ipc; }
};

// Why this process cannot set it up for a child ("" when it can): namespaces need
// CAP_SYS_ADMIN. Checked before anything of the task exists.
std::string isolation_unavailable(const Isolation& isolation);

// With --private-tmp, a working directory under /tmp, /var/tmp or /dev/shm does not exist in
// the task's view (the scratch directory excepted: it is bound back): refused before anything
// starts, naming it. `cwd` empty: the caller's, inherited as it is (its inode, not its path).
void refuse_hidden_cwd(const Isolation& isolation, const std::string& cwd);

// What `cgspawn backends` says of --private-tmp and --private-ipc where cgspawn's own child
// sets them up.
Capability private_tmp_capability();
Capability private_ipc_capability();

// In the child, after fork: async-signal-safe (system calls only). False with errno set.
bool isolate(const Isolation& isolation);

// The directories --private-tmp gives the task of its own.
inline constexpr const char* kPrivateTmpDirs[] = {"/tmp", "/var/tmp", "/dev/shm"};

}  // namespace cgspawn
