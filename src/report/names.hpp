// SPDX-License-Identifier: MIT
// The names of cgspawn's enums as JSON, text and docs spell them, both ways. to_string() of
// each is public (next to its enum); reading a name back is the library's own business.
#pragma once

#include <optional>
#include <string_view>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn {

// nullopt for a name this build does not know.
std::optional<TaskState> parse_task_state(std::string_view name);
std::optional<OwnerKind> parse_owner_kind(std::string_view name);
std::optional<ResourceState> parse_resource_state(std::string_view name);
std::optional<Outcome> parse_outcome(std::string_view name);
std::optional<ExitReason> parse_exit_reason(std::string_view name);
std::optional<ExitCause> parse_exit_cause(std::string_view name);
// The cause an exit reason implies when nothing else is known (a Result written before causes).
ExitCause cause_of_reason(ExitReason reason);

}  // namespace cgspawn
