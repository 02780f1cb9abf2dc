// SPDX-License-Identifier: MIT
// Destroying a remote task's boundary from a separate ssh session: the agent's `kill` kills,
// verifies empty and removes it (or has the installed cgspawn destroy its task, and checks).
#pragma once

#include <string>

#include "backends/remote/kill_reply.hpp"
#include "backends/remote/ssh_command.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn::remote {

class StandbyKill;

struct RemoteCgroupRef {
  SshTarget target;
  std::string control_path;    // empty: a connection of its own
  std::string name;            // cgspawn-<origin>-<id>
  std::string cgroup;          // the path on the remote, once known
  std::string unit;            // the transient unit on a systemd remote ("" for a raw cgroup)
  std::string if_unreachable;  // what will still happen if the host cannot be reached

  ResourceKind resource_kind() const;  // remote-unit or remote-cgroup
  std::string resource_id() const;     // HOST:UNIT or HOST:CGROUP
};

// Never throws. destroyed (KILLED), already-gone (GONE), failed (NOT-EMPTY, UNIT-LEFT,
// CGSPAWN-LEFT, an agent error), not-guaranteed (no answer: ssh's reason and `if_unreachable`).
// Over `standby` when one is usable, else (or if it ended unasked) a session of its own.
ResourceOutcome kill_remote_cgroup(const RemoteCgroupRef& ref, const DestroyOptions& options,
                                   StandbyKill* standby = nullptr);

// The row of a kill that could not reach the host: not guaranteed, `why`, the promise of
// ref.if_unreachable, and that the record stays for `reap`.
ResourceOutcome unreachable_row(const RemoteCgroupRef& ref, const std::string& why);

// "the remote agent kills cgroup X when its lease expires, at most 30s after 12:00:03 UTC"
std::string lease_promise(const std::string& cgroup, std::optional<Duration> lease, const std::string& since);

// "12:00:03 UTC" for a wall-clock time.
std::string utc_time(std::chrono::system_clock::time_point t);

}  // namespace cgspawn::remote
