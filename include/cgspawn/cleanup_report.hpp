// SPDX-License-Identifier: MIT
// CleanupReport: one row per Resource a task owned, and what became of it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

// The kinds of Resource, used the same way in code, JSON and docs (their names there are
// to_string's: "cgroup", "ssh-master", ...).
enum class ResourceKind {
  cgroup,
  process,
  process_group,
  scope,
  service,
  container,
  conmon,
  ssh_master,
  remote_unit,
  remote_cgroup,
  directory,
  escaped_process,
  ipc,
};

std::string_view to_string(ResourceKind kind);
// nullopt for a name this build does not know.
std::optional<ResourceKind> parse_resource_kind(std::string_view name);

struct Resource {
  ResourceKind kind = ResourceKind::cgroup;
  std::string id;  // where it lives: a cgroup path, a unit name, a container id, ...
};

enum class Outcome {
  destroyed,       // verified gone
  already_gone,    // gone before cgspawn acted
  kept,            // left on purpose, by request
  not_guaranteed,  // cgspawn could not verify it is gone
  failed,          // verified still there (survivors listed), or an error stopped the destroy
};

std::string_view to_string(Outcome outcome);

struct ProcessRef {
  int pid = 0;
  std::string comm;
  std::string state;  // the one-letter state from /proc/PID/stat; empty where not read
  // For a survivor: where it waits in the kernel (the D-state wait that holds it), read where
  // readable (the stack needs root); empty otherwise.
  std::string wchan;
  std::vector<std::string> stack;
};

struct ResourceOutcome {
  Resource resource;
  Outcome outcome = Outcome::failed;
  std::string detail;                 // the backend's own words, or why it could not verify
  double seconds = 0;                 // how long destroying this resource took
  std::vector<ProcessRef> killed;     // processes destroy had to kill (capped; see killed_total)
  std::size_t killed_total = 0;       // how many it killed in all
  std::vector<ProcessRef> survivors;  // processes still alive at the deadline
};

struct CleanupReport {
  std::vector<ResourceOutcome> resources;
  // Informational: a check that was not possible, or something only suspected to be the
  // task's. Notes change neither complete() nor an exit status.
  std::vector<std::string> notes;
  // What destroy found besides the main process: processes it killed in the boundary, processes
  // that had left it, SysV IPC. With LeftoversPolicy::fail (`fail_on_leftovers`) any makes the
  // task fail.
  std::size_t leftovers = 0;
  bool fail_on_leftovers = false;

  // True when every row is destroyed, already-gone or kept.
  bool complete() const;
};

}  // namespace cgspawn

#pragma GCC visibility pop
