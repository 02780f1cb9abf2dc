// SPDX-License-Identifier: MIT
#include "backends/systemd/scope_boundary.hpp"

#include "cgroup/usage.hpp"

namespace cgspawn::systemd {

ScopeBoundary::ScopeBoundary(std::unique_ptr<Manager> manager, UnitRef unit, std::unique_ptr<Anchor> anchor)
    : manager_(std::move(manager)), unit_(std::move(unit)), anchor_(std::move(anchor)) {}

std::optional<MainExit> ScopeBoundary::peek_exit() {
  if (auto status = main_.peek()) return MainExit{*status};
  return std::nullopt;
}

std::vector<ResourceOutcome> ScopeBoundary::destroy(const DestroyOptions& options, Usage& usage) {
  UnitDestroyHooks hooks;
  hooks.spare_pid = anchor_->pid();
  hooks.before_kill = [&usage](const Cgroup& cg) { usage = read_usage(cg); };
  ResourceOutcome row = destroy_unit(*manager_, unit_, options, hooks);
  anchor_->end();
  return {std::move(row)};
}

std::optional<ExitStatus> ScopeBoundary::reap_main(std::optional<ExitStatus> known) {
  return main_.reap(known, std::chrono::seconds(1));
}

}  // namespace cgspawn::systemd
