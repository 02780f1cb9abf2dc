// SPDX-License-Identifier: MIT
#include "backends/podman/conmon_end.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <string_view>

#include "util/file_io.hpp"
#include "util/proc_info.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

// conmon's pidfd; when conmon has already gone, an fd that is readable at once.
UniqueFd conmon_exit_fd(const ContainerRef& ref) {
  if (UniqueFd fd = open_pinned_pidfd(ref.conmon_pid, ref.conmon_start); fd.valid()) return fd;
  UniqueFd ended(::eventfd(1, EFD_CLOEXEC));
  if (!ended.valid()) throw_sys("eventfd for the end of container " + ref.name, errno);
  return ended;
}

// The exit file's path, or empty when conmon (pid + start time) names no exit directory.
std::string exit_file_of(const ContainerRef& ref) {
  if (ref.conmon_pid <= 0 || ref.id.empty()) return "";
  auto cmdline = read_file("/proc/" + std::to_string(ref.conmon_pid) + "/cmdline");
  // Compared after the read: a pid reused before it is not conmon's command line.
  if (!cmdline || process_start_time(ref.conmon_pid) != ref.conmon_start) return "";
  std::string dir = exit_dir_in_cmdline(*cmdline);
  return dir.empty() ? "" : dir + "/" + ref.id;
}

// conmon writes the code in decimal, whole (the file is renamed into place).
std::optional<int> read_exit_code(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  std::string_view digits = *text;
  while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' ')) digits.remove_suffix(1);
  int code = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return code;
}

void signal_eventfd(int fd) {
  std::uint64_t one = 1;
  if (::write(fd, &one, sizeof one) < 0) {
  }  // an eventfd's counter does not fill up at 1
}

}  // namespace

std::string exit_dir_in_cmdline(const std::string& cmdline) {
  std::string_view rest = cmdline;
  bool next_is_dir = false;
  while (!rest.empty()) {
    std::size_t end = rest.find('\0');
    std::string_view arg = rest.substr(0, end);
    if (next_is_dir) return std::string(arg);
    if (arg.rfind("--exit-dir=", 0) == 0) return std::string(arg.substr(11));
    next_is_dir = arg == "--exit-dir";
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  }
  return "";
}

struct ConmonEnd::Watcher {
  UniqueFd conmon;   // conmon's pidfd
  UniqueFd changes;  // inotify on the exit directory: other containers' ends come here too
  std::string path;  // the exit file
  UniqueFd ended;    // eventfd: fd() when there is a thread
  UniqueFd stop;     // eventfd: the destructor
  std::atomic<int> code{INT_MIN};

  bool take_code() {
    std::optional<int> c = read_exit_code(path);
    if (c) code.store(*c, std::memory_order_release);
    return c.has_value();
  }

  void run() {
    sigset_t all;  // the caller's signals are its own to take (a signalfd), never this thread's
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    for (;;) {
      if (take_code()) break;  // also a file written before the watch was set
      pollfd p[3] = {{stop.get(), POLLIN, 0}, {conmon.get(), POLLIN, 0}, {changes.get(), POLLIN, 0}};
      if (::poll(p, 3, -1) < 0) continue;
      if (p[0].revents) return;
      if (p[1].revents) {
        take_code();  // the last look: podman's cleanup may have taken it
        break;
      }
      char events[4096];
      while (::read(changes.get(), events, sizeof events) > 0) {
      }
    }
    signal_eventfd(ended.get());
  }
};

ConmonEnd::ConmonEnd(const ContainerRef& ref) : watcher_(std::make_shared<Watcher>()) {
  Watcher& w = *watcher_;
  w.conmon = conmon_exit_fd(ref);
  w.path = exit_file_of(ref);
  if (w.path.empty()) return;
  std::string dir = w.path.substr(0, w.path.rfind('/'));
  w.changes.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!w.changes.valid() ||
      ::inotify_add_watch(w.changes.get(), dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
    return;
  w.ended.reset(::eventfd(0, EFD_CLOEXEC));
  w.stop.reset(::eventfd(0, EFD_CLOEXEC));
  if (!w.ended.valid() || !w.stop.valid()) throw_sys("eventfd for the end of container " + ref.name, errno);
  thread_ = std::thread([watcher = watcher_] { watcher->run(); });
}

ConmonEnd::~ConmonEnd() {
  if (!thread_.joinable()) return;
  signal_eventfd(watcher_->stop.get());
  thread_.join();
}

int ConmonEnd::fd() const {
  return watcher_->ended.valid() ? watcher_->ended.get() : watcher_->conmon.get();
}

std::optional<int> ConmonEnd::exit_code() const {
  int code = watcher_->code.load(std::memory_order_acquire);
  if (code == INT_MIN) return std::nullopt;
  return code;
}

}  // namespace cgspawn
