// SPDX-License-Identifier: MIT
// The process backend's parent on a systemd host: a transient scope with Delegate=yes, so that
// task cgroups are made in a subtree systemd handed over, never in cgroups systemd owns. The
// scope holds one process of cgspawn's own (an Anchor, never the caller: the library does not
// move its caller) in a leaf cgroup "anchor", which keeps the no-internal-processes rule and
// lets the scope's subtree enable the controllers systemd delegated.
#pragma once

#include <memory>
#include <string>

namespace cgspawn {
class Anchor;
}

namespace cgspawn::dbus {

class Manager;

class DelegatedScope {
 public:
  // Starts cgspawn--process-<pid>-<n>.scope (the double dash is never a task's unit: task ids
  // start with a letter or digit) on the system manager, or on the caller's user manager
  // (whose tasks must then be started from inside that manager's subtree).
  // Throws Error naming what failed; leaves nothing behind then.
  static std::unique_ptr<DelegatedScope> start(bool user_manager);
  // Ends the anchor, stops the scope and waits until systemd has unloaded it and removed its
  // cgroup: nothing of cgspawn's is left for systemd to collect later. Whoever holds the scope
  // (the spawner and each of its tasks) holds it until the last of them is done.
  ~DelegatedScope();
  DelegatedScope(const DelegatedScope&) = delete;
  DelegatedScope& operator=(const DelegatedScope&) = delete;

  const std::string& cgroup() const { return cgroup_; }  // absolute: the parent of task cgroups

 private:
  DelegatedScope(std::unique_ptr<Manager> manager, std::string unit, std::string cgroup,
                 std::unique_ptr<Anchor> anchor);

  std::unique_ptr<Manager> manager_;
  std::string unit_;
  std::string cgroup_;
  std::unique_ptr<Anchor> anchor_;
};

// "cgspawn--process-": the prefix of these scopes' names.
inline constexpr const char* kDelegatedScopePrefix = "cgspawn--process-";

}  // namespace cgspawn::dbus
