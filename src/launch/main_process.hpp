// SPDX-License-Identifier: MIT
// A task's main process when it is cgspawn's own child, held by its pidfd. Its end is read
// without reaping it (WNOWAIT): the process stays a zombie until reap(), so its pid (and,
// without cgroup2, its process group) cannot be reused while destroy may still signal them.
#pragma once

#include <chrono>
#include <optional>

#include "cgspawn/result.hpp"
#include "launch/launcher.hpp"

namespace cgspawn {

class MainProcess {
 public:
  MainProcess() = default;  // none yet: never ended
  explicit MainProcess(Launched launched) : launched_(std::move(launched)) {}

  bool exists() const { return launched_.pidfd.valid(); }
  pid_t pid() const { return launched_.pid; }
  int pidfd() const { return launched_.pidfd.get(); }
  std::chrono::steady_clock::time_point started() const { return launched_.started; }

  // Its end, if it has ended (never blocks); nullopt while it runs or when there is none.
  std::optional<ExitStatus> peek() const;

  // After destroy: waits up to `wait` for it to end, reaps it, and returns its status
  // (`known`, if it was read before; nullopt if it survived even SIGKILL).
  std::optional<ExitStatus> reap(std::optional<ExitStatus> known, std::chrono::milliseconds wait) const;

 private:
  Launched launched_;
};

}  // namespace cgspawn
