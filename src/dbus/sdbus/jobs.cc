// SPDX-License-Identifier: MIT
#include "dbus/sdbus/jobs.hpp"

#include <poll.h>

#include <cerrno>

#include "cgspawn/error.hpp"
#include "util/sys_error.hpp"

namespace cgspawn::dbus {

void JobWatcher::listen() {
  if (match_) return;
  match_ = bus_.addMatch(
      "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
      "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'",
      [this](sdbus::Message& signal) { on_removed(signal); });
}

void JobWatcher::on_removed(sdbus::Message& signal) {
  std::uint32_t id = 0;
  sdbus::ObjectPath job;
  std::string unit, result;
  signal >> id >> job >> unit >> result;
  removed_[job] = result;
}

// One round of the bus's own loop: dispatch what is queued, else poll its fd (no busy loop).
void JobWatcher::pump(Clock::time_point deadline) {
  if (bus_.processPendingRequest()) return;
  auto data = bus_.getEventLoopPollData();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (data.timeout_usec != UINT64_MAX)
    left = std::min<long long>(left, static_cast<long long>(data.timeout_usec / 1000) + 1);
  pollfd fd{data.fd, data.events, 0};
  if (::poll(&fd, 1, static_cast<int>(std::max<long long>(left, 0))) < 0 && errno != EINTR)
    throw_sys("poll the D-Bus connection", errno);
}

std::string JobWatcher::wait(const std::string& job, Clock::time_point deadline) {
  struct Unlisten {
    JobWatcher& w;
    ~Unlisten() {
      w.match_.reset();
      w.removed_.clear();  // other jobs' ends, seen meanwhile: nobody waits for them
    }
  } unlisten{*this};
  for (;;) {
    if (auto it = removed_.find(job); it != removed_.end()) return it->second;
    if (Clock::now() >= deadline)
      throw Error(ErrorKind::system, "systemd job " + job + " did not finish in time");
    pump(deadline);
  }
}

}  // namespace cgspawn::dbus
