// SPDX-License-Identifier: MIT
// The process backend: each task in a child cgroup of its own under a parent cgroup.
#pragma once

#include <memory>
#include <string>

#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

struct ProcessSpawnerOptions {
  // The cgroup under which task cgroups are created, as an absolute path in the cgroup2
  // filesystem (/sys/fs/cgroup/... or /sys/fs/cgroup/unified/...). Empty: default_parent().
  std::string parent;
  // When set, every task is recorded there before its cgroup is made (see cgspawn/ledger.hpp),
  // so `list` and `reap` find it if this process dies.
  std::shared_ptr<const Ledger> ledger;
  OwnerKind owner_kind = OwnerKind::library;  // how the record names this process
  bool keep_record = false;  // keep the record, with its Result, after finish (for the supervisor)
};

// The parent cgroup used when none is given (see docs/backends.md): $CGSPAWN_PARENT if set;
// as root <cgroup2 mount>/cgspawn; otherwise a child "cgspawn" of the caller's own cgroup.
// Empty when the host has no cgroup2 at all.
std::string default_parent();

std::unique_ptr<Spawner> make_process_spawner(const ProcessSpawnerOptions& options = {});

}  // namespace cgspawn

#pragma GCC visibility pop
