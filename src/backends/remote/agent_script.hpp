// SPDX-License-Identifier: MIT
// The built-in POSIX-sh agent: what runs on a remote that has neither systemd nor cgspawn.
#pragma once

#include <string>
#include <vector>

namespace cgspawn::remote {

// The script itself: src/backends/remote/agent.sh, byte for byte (its protocol is at its top).
const std::string& agent_script();

// The one remote command string that runs the agent: "exec sh -c '<script>' cgspawn-agent
// MARK MODE ARGS...", every word POSIX single-quoted, so no login shell re-parses anything.
std::string agent_command(const std::string& mark, const std::string& mode,
                          const std::vector<std::string>& args);

}  // namespace cgspawn::remote
