// SPDX-License-Identifier: MIT
// The lines of the ledger's index (DIR/.index, ledger/record_index.hpp): one line per
// step of a change of a task's record, in the order the steps happened. Fields are separated
// by tabs; a tab, newline or backslash inside a value is written \t, \n or \\.
// CREATED, the task's creation time in Unix seconds, is a double in C99 hex notation
// ("0x1.a4d139447e6b7p+30"): exact, and read back without a rounding step.
//
// Every change is bracketed: an "open" line before the record is touched, one closing line
// after. A task with a change still open (its writer is at work, or died at work) is read
// from its record; any other is what its last "written" line and its "found" lines say.
//   o ID                          a change begins
//   w ID STATE BACKEND CREATED OWNER_PID OWNER_START OWNER_KIND BOUND_PID BOUND_START
//     N_LABELS (KEY VALUE)... N_RESOURCES (KIND ID STATE)...
//                                 ...and ends: the record now says this (BOUND_PID 0: none)
//   f ID KIND RESOURCE_ID STATE   ...and ends: a resource was added to the task's found file
//   r ID                          ...and ends: the task's directory was removed
//   c ID                          ...and ends with the record unchanged (the write failed)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cgspawn/ledger.hpp"

namespace cgspawn::index_lines {

enum class Step : char { open = 'o', written = 'w', found = 'f', removed = 'r', closed = 'c' };

std::string step_line(Step step, std::string_view id);  // open, removed, closed
std::string written_line(const TaskSummary& summary);
std::string found_line(std::string_view id, const ResourceRecord& resource);

struct Line {
  Step step;
  std::string_view id;
  std::string_view fields;  // what follows the id (written, found)
};
// One line without its newline; nullopt when it is not of this format.
std::optional<Line> split_line(std::string_view line);

// What a written line's fields say; nullopt when they are malformed.
std::optional<TaskSummary> parse_written(std::string_view id, std::string_view fields);
std::optional<ResourceRecord> parse_found(std::string_view fields);
// Only the creation time of a written line's fields (to order tasks before reading the rest).
std::optional<double> created_of(std::string_view fields);

}  // namespace cgspawn::index_lines
