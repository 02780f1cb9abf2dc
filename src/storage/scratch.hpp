// SPDX-License-Identifier: MIT
// A task's scratch directory (TaskSpec::scratch): ROOT/<task id>, made 0700 for the task before
// it starts (its ledger row written first), in the task's $CGSPAWN_SCRATCH and $TMPDIR, and
// removed and verified gone at destroy, or kept on request. A row of kind `directory` whose id
// is the absolute path; a remote one names its host in the row's attributes.
#pragma once

#include <string>

#include "cgspawn/capabilities.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/task_spec.hpp"

namespace cgspawn {

inline constexpr const char* kDefaultScratchRoot = "/var/tmp/cgspawn-scratch";

// ROOT/<id>; throws invalid_argument for a root that is not an absolute path.
std::string scratch_path(const TaskSpec& spec);

// What `cgspawn backends` says of --scratch on this host.
Capability local_scratch_capability();

// $CGSPAWN_SCRATCH, and $TMPDIR unless the spec's own env sets it.
void add_scratch_env(TaskSpec& spec, const std::string& path);

// The ledger row, intended; `keep` rides along so a `reap` keeps it too.
ResourceRecord scratch_record(const std::string& path, bool keep);

// Makes the root (01777, as /var/tmp, when cgspawn makes it) and the directory (0700). Throws,
// naming the path and why: the root is not a directory, the directory exists already, ...
void make_scratch(const std::string& path);

// Removes the directory (remove_tree) and verifies it gone; or keeps it when the record says so.
// destroyed, already-gone, kept, or failed (a mount inside, an error) with the reason.
ResourceOutcome remove_scratch(const ResourceRecord& record);

}  // namespace cgspawn
