// SPDX-License-Identifier: MIT
// Choosing a backend by name: one set of options for all of them, as the CLI has.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgspawn/capabilities.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

struct BackendOptions {
  std::string backend = "process";  // process, systemd, podman, remote
  // Every backend:
  std::shared_ptr<const Ledger> ledger;  // records tasks before their resources exist
  OwnerKind owner_kind = OwnerKind::library;
  bool keep_record = false;  // keep the record with its Result after finish
  // process (and the cgroup parent podman places containers under):
  std::string parent;
  // systemd:
  bool user_manager = false;        // the calling user's manager instead of the system's
  std::string unit_type = "scope";  // scope, or service (systemd supervises the task)
  // podman:
  std::string image;
  std::string rootfs;
  bool keep_container = false;
  // remote:
  std::string host;  // [USER@]HOST[:PORT]
  std::string ssh_config;
  std::optional<Duration> lease = std::chrono::seconds(30);  // nullopt: no lease
  // A kill session opened beside each task's session and held ready for its destroy during
  // the task's first `kill_session_ahead` (0: none): a short task's destroy then opens no
  // session (about one `ssh HOST true` less). It takes a session slot of the host's sshd
  // (MaxSessions) meanwhile: for callers that wait on few tasks, as `cgspawn run` does.
  Duration kill_session_ahead{0};
};

// The backends this build has, in the order `cgspawn backends` shows them.
std::vector<std::string> backend_names();

// Throws invalid_argument for an unknown backend, unsupported (with the reason) for one that
// cannot run here.
std::unique_ptr<Spawner> make_spawner(const BackendOptions& options);

// Never throws: an unusable backend says why in `usable`.
Capabilities backend_capabilities(const BackendOptions& options);

}  // namespace cgspawn

#pragma GCC visibility pop
