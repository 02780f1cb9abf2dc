// SPDX-License-Identifier: MIT
// The names cgspawn gives what it makes, so that list, reap and orphan discovery find them.
#pragma once

namespace cgspawn {

// Task cgroups, units and containers are "cgspawn-<id>" (remote ones add an origin part).
inline constexpr const char* kTaskPrefix = "cgspawn-";

// The extended attribute that marks a task cgroup as one ledger's (its value: the ledger's
// directory), so `reap --orphans` destroys only its own.
inline constexpr const char* kLedgerXattr = "user.cgspawn.ledger";

}  // namespace cgspawn
