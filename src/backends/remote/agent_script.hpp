// SPDX-License-Identifier: MIT
// The POSIX-sh agent, sent over ssh on every call: on the remote it makes the task's boundary
// (a systemd scope, an installed cgspawn's task, or a cgroup of its own) and supervises it.
#pragma once

#include <string>
#include <vector>

namespace cgspawn::remote {

// The script itself: src/backends/remote/agent.sh from its first line of code on (its
// protocol, the leading comment block, stays in the file).
const std::string& agent_script();

// The one remote command string that runs the agent: "exec sh -c '<script>' cgspawn-agent
// MARK MODE ARGS...", every word POSIX single-quoted, so no login shell re-parses anything.
std::string agent_command(const std::string& mark, const std::string& mode,
                          const std::vector<std::string>& args);

}  // namespace cgspawn::remote
