// SPDX-License-Identifier: MIT
#include "cgroup/events.hpp"

#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include "util/file_io.hpp"

namespace cgspawn {
namespace {

// Polls until one of `fds` has an event (true) or the deadline passes (false).
bool poll_until(std::vector<pollfd>& fds, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(left, 0, 1 << 30)));
    if (n > 0) return true;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || Clock::now() >= deadline) return false;  // n < 0: EINVAL/ENOMEM, nothing to wait on
  }
}

// Re-reads cgroup.events at each of its change notices (POLLPRI on a descriptor open on it;
// each read arms the next) until `done`. Not an inotify instance: closing one that had a watch
// waits for an SRCU grace period, about 1 ms, at every destroy. The kernel sends a cgroup's
// notices at most once per 10 ms (rounded up to jiffies), so the one after a kill that closely
// follows a start or a freeze comes up to 12 ms late; the exits of the processes killed
// (`exits`, pidfds) are a second reason to look, sooner: a process has left its cgroup by the
// time its pidfd says it exited.
WaitResult wait_for_events(const Cgroup& cgroup, const std::function<bool(const std::string&)>& done,
                           Clock::time_point deadline, int interrupt_fd, const std::vector<UniqueFd>& exits) {
  UniqueFd events(::openat(cgroup.dirfd(), "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!events.valid())  // gone: nothing is in it; anything else (EMFILE): cannot tell, say so
    return errno == ENOENT || errno == ENODEV ? WaitResult::ready : WaitResult::timed_out;
  std::vector<pollfd> fds{{events.get(), POLLPRI, 0}, {interrupt_fd, POLLIN, 0}};  // fd -1: not polled
  for (const auto& exit : exits) fds.push_back({exit.get(), POLLIN, 0});
  for (;;) {
    std::string text = read_from_start(events.get());
    if (text.empty() || done(text)) return WaitResult::ready;  // empty: removed meanwhile
    if (fds[1].revents) return WaitResult::interrupted;
    // Checked here too, not only when poll times out: a descriptor that stayed ready would
    // otherwise keep this loop from ever ending.
    if (Clock::now() >= deadline || !poll_until(fds, deadline)) return WaitResult::timed_out;
    for (size_t i = 2; i < fds.size(); ++i)
      if (fds[i].revents) fds[i].fd = -1;  // exited: it stays readable, look at it no more
  }
}

}  // namespace

WaitResult wait_until_empty(const Cgroup& cgroup, Clock::time_point deadline, int interrupt_fd,
                            const std::vector<UniqueFd>& exits) {
  return wait_for_events(
      cgroup, [](const std::string& e) { return keyed_value(e, "populated").value_or(0) == 0; }, deadline,
      interrupt_fd, exits);
}

WaitResult wait_until_frozen(const Cgroup& cgroup, Clock::time_point deadline) {
  return wait_for_events(cgroup,
                         [](const std::string& e) { return keyed_value(e, "frozen").value_or(0) == 1; },
                         deadline, -1, {});
}

}  // namespace cgspawn
