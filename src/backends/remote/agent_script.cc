// SPDX-License-Identifier: MIT
// The agent is src/backends/remote/agent.sh (its protocol is at its top), embedded into the
// library at build time by embed_agent.py: the script is edited and checked as a shell file.
#include "backends/remote/agent_script.hpp"

#include <cstddef>

#include "backends/remote/ssh_command.hpp"

namespace cgspawn::remote {

// Defined in the build dir's agent_sh.cc (see src/meson.build).
extern const char agent_sh[];
extern const std::size_t agent_sh_size;

const std::string& agent_script() {
  static const std::string script(agent_sh, agent_sh_size);
  return script;
}

std::string agent_command(const std::string& mark, const std::string& mode,
                          const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"sh", "-c", agent_script(), "cgspawn-agent", mark, mode};
  argv.insert(argv.end(), args.begin(), args.end());
  return remote_command(argv);
}

}  // namespace cgspawn::remote
