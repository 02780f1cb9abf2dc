// SPDX-License-Identifier: MIT
// A lock file that elects one process (the watcher of a bound process, a ledger's lineage
// server): its holder keeps the flock (it belongs to the open file, so it can be handed over
// with the fd) and removes the file as it ends.
#pragma once

#include <string>

#include "util/unique_fd.hpp"

namespace cgspawn {

// Takes the flock on the file at `path` (made 0600 if missing) without waiting. Invalid when
// another holds it. A file its holder removed while we waited for the lock names nothing any
// more: the one at `path` now is locked instead. Throws Error(system) when it cannot be opened.
UniqueFd try_lock_file(const std::string& path);

}  // namespace cgspawn
