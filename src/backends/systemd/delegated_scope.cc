#include "backends/systemd/delegated_scope.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <sstream>

#include "backends/systemd/bus.hpp"
#include "backends/systemd/held_child.hpp"
#include "backends/systemd/manager.hpp"
#include "backends/systemd/scope_verify.hpp"
#include "util/file_io.hpp"
#include "util/sys_error.hpp"

namespace cgspawn::systemd {
namespace {

constexpr auto kJobTimeout = std::chrono::seconds(120);  // a start job in a slow TCG guest

std::string next_name() {
  static std::atomic<unsigned> serial{0};
  return kDelegatedScopePrefix + std::to_string(::getpid()) + "-" + std::to_string(++serial) + ".scope";
}

std::vector<Property> scope_properties(pid_t anchor) {
  return {Property{"Description", sdbus::Variant(std::string("cgspawn: the process backend's task cgroups (pid ") +
                                                 std::to_string(::getpid()) + ")")},
          Property{"CollectMode", sdbus::Variant(std::string("inactive-or-failed"))},
          Property{"Delegate", sdbus::Variant(true)},
          Property{"PIDs", sdbus::Variant(std::vector<std::uint32_t>{static_cast<std::uint32_t>(anchor)})}};
}

// The anchor into its leaf, then every controller systemd delegated enabled for the tasks.
void prepare_subtree(const std::string& cgroup, pid_t anchor) {
  std::string leaf = cgroup + "/anchor";
  if (::mkdir(leaf.c_str(), 0755) != 0) throw_sys("create " + leaf, errno);
  if (int err = write_file(leaf + "/cgroup.procs", std::to_string(anchor))) throw_sys("move the anchor into " + leaf, err);
  std::istringstream delegated(read_file(cgroup + "/cgroup.controllers").value_or(""));
  for (std::string c; delegated >> c;) {
    if (c != "memory" && c != "pids" && c != "cpu" && c != "io") continue;
    if (int err = write_file(cgroup + "/cgroup.subtree_control", "+" + c))
      spdlog::debug("{}: cannot enable {}: {}", cgroup, c, errno_text(err));
  }
}

}  // namespace

DelegatedScope::DelegatedScope(std::string unit, std::string cgroup, std::unique_ptr<Anchor> anchor)
    : unit_(std::move(unit)), cgroup_(std::move(cgroup)), anchor_(std::move(anchor)) {}

DelegatedScope::~DelegatedScope() {
  anchor_->end();
  ::rmdir((cgroup_ + "/anchor").c_str());  // ours; the scope's own cgroup is systemd's to remove
}

std::unique_ptr<DelegatedScope> DelegatedScope::start(bool user_manager) {
  BusLookup bus = find_bus(user_manager);
  if (!bus.unavailable.empty()) throw Error(ErrorKind::unsupported, bus.unavailable);
  Manager manager(bus.target);
  auto anchor = std::make_unique<Anchor>();
  std::string name = next_name();
  try {
    sdbus::ObjectPath job = manager.start_transient(name, scope_properties(anchor->pid()));
    std::string result = manager.jobs().wait(job, Clock::now() + kJobTimeout);
    if (result != "done") throw Error(ErrorKind::system, "the start job of " + name + " ended with \"" + result + "\"");
    std::string cgroup = verify_active(manager, name);
    verify_members(cgroup, {anchor->pid()});
    prepare_subtree(cgroup, anchor->pid());
    spdlog::debug("process backend: task cgroups under {} ({})", cgroup, name);
    return std::unique_ptr<DelegatedScope>(new DelegatedScope(name, cgroup, std::move(anchor)));
  } catch (const sdbus::Error& e) {
    throw translate("start the delegated scope " + name, e);  // the anchor ends: the scope empties and goes
  }
}

}  // namespace cgspawn::systemd
