// SPDX-License-Identifier: MIT
// What orphan discovery (each backend's column of the registry) shares.
#pragma once

#include <string>

#include "cgspawn/ledger.hpp"

namespace cgspawn {

// True when `id` has a record in `ledger`, readable or not (a corrupt record is listed as
// corrupt, never its resources as orphans), or is no task id at all.
bool has_record(const Ledger& ledger, const std::string& id);

}  // namespace cgspawn
