// SPDX-License-Identifier: MIT
// Inside the D-Bus module: waiting for systemd jobs. JobRemoved is matched before any job is
// asked for, so a job that completes before its method call returns is never missed.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <string>

#include "util/deadline.hpp"

namespace cgspawn::dbus {

class JobWatcher {
 public:
  // Subscribes to the manager's JobRemoved signal on `bus` (synchronously: the match exists
  // when this returns). systemd sends JobRemoved to the client that queued the job.
  explicit JobWatcher(sdbus::IConnection& bus);

  // The job's result once systemd has removed it. Throws Error(system) at the deadline.
  std::string wait(const std::string& job, Clock::time_point deadline);

 private:
  void on_removed(sdbus::Signal& signal);
  void pump(Clock::time_point deadline);

  sdbus::IConnection& bus_;
  std::unique_ptr<sdbus::IProxy> proxy_;
  std::map<std::string, std::string> removed_;  // job path -> result
};

}  // namespace cgspawn::dbus
