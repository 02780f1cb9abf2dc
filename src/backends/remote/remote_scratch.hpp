// SPDX-License-Identifier: MIT
// A remote task's scratch directory: made on the remote host by the agent's `run` (before
// anything of the task runs), removed there by the agent's `scratch-rm` in a session of its own
// after the boundary is gone, now or, after a partition, by a later `reap`.
#pragma once

#include <map>
#include <string>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"

namespace cgspawn::remote {

// The ledger row: kind directory, id HOST:PATH, with what a later session needs (`attributes`:
// host, ssh_config, control_path, ...) and the path on the remote.
ResourceRecord remote_scratch_record(const std::string& path, bool keep,
                                     std::map<std::string, std::string> attributes);

// Never throws. destroyed (SCRATCH-REMOVED), already-gone (SCRATCH-GONE), kept (on request),
// failed (SCRATCH-LEFT: a mount inside, or what rm left), not-guaranteed (no answer: it stays
// until a `reap` reaches the host).
ResourceOutcome remove_remote_scratch(const ResourceRecord& record);

}  // namespace cgspawn::remote
