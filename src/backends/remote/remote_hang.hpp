// SPDX-License-Identifier: MIT
// The hang report of a remote task, taken on the remote by the agent (its standby's "hang"
// request): the same report as on this host, from the remote's /proc and the task's cgroup there.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/remote/markers.hpp"
#include "backends/remote/remote_kill.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn::remote {

// How long a hang report may take: no answer within kAnswerBound (a hung host), then the
// agent's reads of /proc (at most 200 processes).
inline constexpr auto kHangBound = kAnswerBound + std::chrono::seconds(10);

// The report from the agent's HANG-* lines (nullopt without HANG-END). `host` names the remote.
std::optional<HangReport> hang_from_markers(const std::vector<Marker>& markers, const std::string& host);

}  // namespace cgspawn::remote
