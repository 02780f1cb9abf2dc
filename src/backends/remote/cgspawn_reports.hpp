// SPDX-License-Identifier: MIT
// A task that an installed cgspawn contained on the remote: that cgspawn's own reports
// (`cgspawn destroy --json`, the Result of its `cgspawn run`) folded into this side's row.
#pragma once

#include <vector>

#include "backends/remote/markers.hpp"
#include "cgspawn/capabilities.hpp"
#include "cgspawn/cleanup_report.hpp"

namespace cgspawn::remote {

// Adds the processes the remote cgspawn killed (and any survivors) and its words per row
// to `row`. An unreadable report is named in the detail; the outcome is left to the caller.
void fold_cgspawn_reports(ResourceOutcome& row, const std::vector<Marker>& markers);

// The remote `cgspawn backends --json` row of its process backend, if the text holds one.
std::optional<Capabilities> remote_process_capabilities(const std::string& backends_json);

}  // namespace cgspawn::remote
