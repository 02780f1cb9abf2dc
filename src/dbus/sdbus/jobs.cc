// SPDX-License-Identifier: MIT
#include "dbus/sdbus/jobs.hpp"

#include <poll.h>

#include <cerrno>

#include "cgspawn/error.hpp"
#include "util/sys_error.hpp"

namespace cgspawn::dbus {

JobWatcher::JobWatcher(sdbus::IConnection& bus)
    : bus_(bus), proxy_(sdbus::createProxy(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1")) {
  proxy_->registerSignalHandler("org.freedesktop.systemd1.Manager", "JobRemoved",
                                [this](sdbus::Signal& signal) { on_removed(signal); });
  proxy_->finishRegistration();
}

void JobWatcher::on_removed(sdbus::Signal& signal) {
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
  for (;;) {
    if (auto it = removed_.find(job); it != removed_.end()) {
      std::string result = it->second;
      removed_.erase(it);
      return result;
    }
    if (Clock::now() >= deadline)
      throw Error(ErrorKind::system, "systemd job " + job + " did not finish in time");
    pump(deadline);
  }
}

}  // namespace cgspawn::dbus
