// SPDX-License-Identifier: MIT
// JSON forms of the public types (schema 1, documented in docs/cli.md).
#pragma once

#include <string>

#include "cgspawn/capabilities.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/recorded_tasks.hpp"
#include "cgspawn/result.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

// indent -1: one line.
std::string to_json(const Result& result, int indent = 2);
std::string to_json(const CleanupReport& report, int indent = 2);
std::string to_json(const Capabilities& capabilities, int indent = 2);
// A task's record as `cgspawn status --json` and `list --json` show it: the ledger's form,
// with "owner": {"alive": ...} as it is now.
std::string to_json(const TaskRecord& record, int indent = 2);
// `cgspawn destroy --json` (with "schema") and one task of `reap --json`.
std::string to_json(const TaskReport& report, int indent = 2);
// `cgspawn reap --json`.
std::string to_json(const ReapReport& report, int indent = 2);

}  // namespace cgspawn

#pragma GCC visibility pop
