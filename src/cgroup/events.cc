// SPDX-License-Identifier: MIT
#include "cgroup/events.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <functional>

#include "util/file_io.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

void drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

// The kernel signals every change of cgroup.events as IN_MODIFY on that file.
WaitResult wait_for_events(const Cgroup& cgroup, const std::function<bool(const std::string&)>& done,
                           Clock::time_point deadline, int interrupt_fd) {
  UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  std::string events_path = cgroup.path() + "/cgroup.events";
  bool watching = inotify.valid() && ::inotify_add_watch(inotify.get(), events_path.c_str(), IN_MODIFY) >= 0;
  for (;;) {
    auto events = cgroup.read("cgroup.events");
    if (!events || done(*events)) return WaitResult::ready;
    if (!watching) return WaitResult::timed_out;  // no inotify: cannot wait without polling
    WaitResult r = wait_readable(inotify.get(), deadline, interrupt_fd);
    if (r != WaitResult::ready) return r;
    drain(inotify.get());
  }
}

}  // namespace

WaitResult wait_until_empty(const Cgroup& cgroup, Clock::time_point deadline, int interrupt_fd) {
  return wait_for_events(
      cgroup, [](const std::string& e) { return keyed_value(e, "populated").value_or(0) == 0; }, deadline,
      interrupt_fd);
}

WaitResult wait_until_frozen(const Cgroup& cgroup, Clock::time_point deadline) {
  return wait_for_events(
      cgroup, [](const std::string& e) { return keyed_value(e, "frozen").value_or(0) == 1; }, deadline, -1);
}

}  // namespace cgspawn
