// SPDX-License-Identifier: MIT
// Inside the D-Bus module: waiting for systemd jobs. JobRemoved is matched before a job is
// asked for, so a job that completes before its method call returns is never missed, and only
// until that job's wait is over. systemd broadcasts on the bus the end of every job a client of
// the bus asked for, to every connection that matches the signal: matched for a connection's
// whole life, every running task's supervisor was sent every other task's start and stop, N x
// N messages for N tasks. (A match on the unit's name, the signal's third argument, would be
// narrower, but sd-bus matches no argument that follows one of another type than a string, and
// JobRemoved's first is a number.)
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <string>

#include "util/deadline.hpp"

namespace cgspawn::dbus {

class JobWatcher {
 public:
  explicit JobWatcher(sdbus::IConnection& bus) : bus_(bus) {}

  // Matches the manager's JobRemoved on the bus (synchronously: the match exists when this
  // returns) until the next wait() is over. Call before asking for a job.
  void listen();

  // The job's result once systemd has removed it. Throws Error(system) at the deadline. Either
  // way the match goes.
  std::string wait(const std::string& job, Clock::time_point deadline);

 private:
  void on_removed(sdbus::Message& signal);
  void pump(Clock::time_point deadline);

  sdbus::IConnection& bus_;
  sdbus::Slot match_;                           // from listen() to the end of wait()
  std::map<std::string, std::string> removed_;  // job path -> result
};

}  // namespace cgspawn::dbus
