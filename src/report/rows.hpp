// SPDX-License-Identifier: MIT
// Building CleanupReport rows.
#pragma once

#include <string>

#include "cgspawn/cleanup_report.hpp"

namespace cgspawn {

inline ResourceOutcome make_row(Resource resource, Outcome outcome, std::string detail) {
  ResourceOutcome row;
  row.resource = std::move(resource);
  row.outcome = outcome;
  row.detail = std::move(detail);
  return row;
}

}  // namespace cgspawn
