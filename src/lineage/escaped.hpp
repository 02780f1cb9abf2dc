// SPDX-License-Identifier: MIT
// Escaped processes: a task's descendants found outside its boundary. They are resources of
// kind escaped-process, recorded when first seen, killed and verified gone like the rest.
#pragma once

#include <vector>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"
#include "lineage/lineage.hpp"

namespace cgspawn {

// Its record: the pid as id; pid, start time, command and cgroup as attributes.
ResourceRecord escape_record(const Escape& escape);

// After the task's boundary was destroyed: each descendant still alive is outside it (the
// boundary is empty, or its survivors are its own rows). `kill`: SIGKILL each, again for the
// ones they fork meanwhile, until none is alive or the deadline passes (survivors: failed);
// otherwise each is reported, left running (kept, --on-leftovers report). One row per process.
// `live`: the tree's live processes as just asked (lineage.live() is asked again only once
// some were found).
std::vector<ResourceOutcome> destroy_escaped(const LineageWatch& lineage, std::vector<pid_t> live,
                                             const std::string& task_cgroup, bool kill,
                                             Clock::time_point deadline);

// `reap`'s way, from the record: the process of that pid and start time, if still alive.
ResourceOutcome destroy_recorded_escape(const ResourceRecord& resource, const DestroyOptions& options);

}  // namespace cgspawn
