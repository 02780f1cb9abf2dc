// SPDX-License-Identifier: MIT
#include "task.hpp"

namespace cgtest {

cgspawn::TaskSpec shell(const std::string& id, const std::string& script, std::vector<std::string> args) {
  cgspawn::TaskSpec spec;
  spec.id = id;
  spec.argv = {"/bin/sh", "-c", script, "sh"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  return spec;
}

std::unique_ptr<cgspawn::Spawner> spawner_under(const TestParent& parent) {
  cgspawn::ProcessSpawnerOptions options;
  options.parent = parent.path();
  return cgspawn::make_process_spawner(options);
}

cgspawn::DestroyOptions destroy_options(std::chrono::milliseconds grace,
                                        std::chrono::milliseconds verify_timeout) {
  cgspawn::DestroyOptions o;
  o.grace = grace;
  o.verify_timeout = verify_timeout;
  return o;
}

bool killed_has(const cgspawn::ResourceOutcome& row, pid_t pid) {
  for (const auto& p : row.killed)
    if (p.pid == pid) return true;
  return false;
}

bool survivors_have(const cgspawn::ResourceOutcome& row, pid_t pid) {
  for (const auto& p : row.survivors)
    if (p.pid == pid) return true;
  return false;
}

std::vector<pid_t> killed_pids(const cgspawn::ResourceOutcome& row) {
  std::vector<pid_t> out;
  for (const auto& p : row.killed) out.push_back(p.pid);
  return out;
}

}  // namespace cgtest
