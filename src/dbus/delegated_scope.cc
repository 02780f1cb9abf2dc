// SPDX-License-Identifier: MIT
#include "dbus/delegated_scope.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <sstream>

#include "dbus/bus.hpp"
#include "dbus/manager.hpp"
#include "dbus/scope_verify.hpp"
#include "dbus/unit_properties.hpp"
#include "launch/held_child.hpp"
#include "util/file_io.hpp"
#include "util/logger.hpp"
#include "util/sys_error.hpp"

namespace cgspawn::dbus {
namespace {

constexpr auto kJobTimeout = std::chrono::seconds(120);  // a start job in a slow TCG guest

std::string next_name() {
  static std::atomic<unsigned> serial{0};
  return kDelegatedScopePrefix + std::to_string(::getpid()) + "-" + std::to_string(++serial) + ".scope";
}

std::string description() {
  return "cgspawn: the process backend's task cgroups (pid " + std::to_string(::getpid()) + ")";
}

// The anchor into its leaf, then every controller systemd delegated enabled for the tasks.
void prepare_subtree(const std::string& cgroup, pid_t anchor) {
  std::string leaf = cgroup + "/anchor";
  if (::mkdir(leaf.c_str(), 0755) != 0) throw_sys("create " + leaf, errno);
  if (int err = write_file(leaf + "/cgroup.procs", std::to_string(anchor)))
    throw_sys("move the anchor into " + leaf, err);
  std::istringstream delegated(read_file(cgroup + "/cgroup.controllers").value_or(""));
  for (std::string c; delegated >> c;) {
    if (c != "memory" && c != "pids" && c != "cpu" && c != "io") continue;
    if (int err = write_file(cgroup + "/cgroup.subtree_control", "+" + c))
      logger().debug("{}: cannot enable {}: {}", cgroup, c, errno_text(err));
  }
}

}  // namespace

DelegatedScope::DelegatedScope(std::unique_ptr<Manager> manager, std::string unit, std::string cgroup,
                               std::unique_ptr<Anchor> anchor)
    : manager_(std::move(manager)),
      unit_(std::move(unit)),
      cgroup_(std::move(cgroup)),
      anchor_(std::move(anchor)) {}

DelegatedScope::~DelegatedScope() {
  anchor_->end();
  ::rmdir((cgroup_ + "/anchor").c_str());  // ours; the scope's own cgroup is systemd's to remove
  auto deadline = Clock::now() + std::chrono::seconds(10);
  try {
    manager_->wait_job(manager_->stop_unit(unit_), deadline);
  } catch (const BusError& e) {
    if (e.name() != kNoSuchUnit)
      logger().warn("{}: StopUnit: {}", unit_, e.what());  // unloaded already: fine
  } catch (const Error& e) {
    logger().warn("{}: StopUnit: {}", unit_, e.what());
  }
  if (std::string left = wait_unit_gone(*manager_, unit_, cgroup_, deadline); !left.empty())
    logger().warn("{}: {}", unit_, left);
}

std::unique_ptr<DelegatedScope> DelegatedScope::start(bool user_manager) {
  BusLookup bus = find_bus(user_manager);
  if (!bus.unavailable.empty()) throw Error(ErrorKind::unsupported, bus.unavailable);
  auto manager = Manager::connect(bus.target);
  auto anchor = std::make_unique<Anchor>();
  std::string name = next_name();
  try {
    std::string job =
        manager->start_transient(name, delegated_scope_properties(description(), anchor->pid()));
    std::string result = manager->wait_job(job, Clock::now() + kJobTimeout);
    if (result != "done")
      throw Error(ErrorKind::system, "the start job of " + name + " ended with \"" + result + "\"");
    std::string cgroup = verify_active(*manager, name);
    verify_members(cgroup, {anchor->pid()});
    prepare_subtree(cgroup, anchor->pid());
    logger().debug("process backend: task cgroups under {} ({})", cgroup, name);
    return std::unique_ptr<DelegatedScope>(
        new DelegatedScope(std::move(manager), name, cgroup, std::move(anchor)));
  } catch (const BusError& e) {
    throw in_context("start the delegated scope " + name, e);  // the anchor ends: the scope empties and goes
  }
}

}  // namespace cgspawn::dbus
