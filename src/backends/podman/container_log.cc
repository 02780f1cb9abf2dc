// SPDX-License-Identifier: MIT
#include "backends/podman/container_log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "util/file_io.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

constexpr const char* kLogPlace = "/var/tmp";

// One k8s-file line without its newline: "TIME STREAM TAG TEXT", TAG P (the container's line
// goes on in the next) or F (it ended here).
void decode_line(std::string_view line, const std::function<void(bool, std::string_view)>& out) {
  std::size_t stream_at = line.find(' ');
  if (stream_at == std::string_view::npos) return;
  std::size_t tag_at = line.find(' ', stream_at + 1);
  if (tag_at == std::string_view::npos) return;
  std::string_view stream = line.substr(stream_at + 1, tag_at - stream_at - 1);
  if (stream != "stdout" && stream != "stderr") return;
  std::size_t text_at = line.find(' ', tag_at + 1);
  std::string_view tag =
      line.substr(tag_at + 1, text_at == std::string_view::npos ? text_at : text_at - tag_at - 1);
  std::string_view text = text_at == std::string_view::npos ? std::string_view() : line.substr(text_at + 1);
  bool to_stderr = stream == "stderr";
  out(to_stderr, text);
  if (tag != "P") out(to_stderr, "\n");
}

}  // namespace

ContainerLogFile ContainerLogFile::create() {
  ContainerLogFile file;
  file.fd_.reset(::open(kLogPlace, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!file.fd_.valid() && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // No O_TMPFILE there: a named file, unlinked at once.
    std::string name = kLogPlace;
    name += "/cgspawn-container-log-XXXXXX";
    file.fd_.reset(::mkostemp(name.data(), O_CLOEXEC));
    if (file.fd_.valid()) ::unlink(name.c_str());
  }
  if (!file.fd_.valid()) throw_sys(std::string("make the container's log file in ") + kLogPlace, errno);
  return file;
}

std::string ContainerLogFile::path_for_podman() const {
  return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_.get());
}

void decode_k8s_log(std::string& pending, std::string_view bytes,
                    const std::function<void(bool to_stderr, std::string_view text)>& out) {
  pending.append(bytes);
  std::string_view rest = pending;
  for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
    decode_line(rest.substr(0, nl), out);
    rest.remove_prefix(nl + 1);
  }
  pending.erase(0, pending.size() - rest.size());
}

struct ContainerLog::Follower {
  UniqueFd file;
  UniqueFd fds[2];  // stdout, stderr: our own copies, as a child process would have them
  bool broken[2] = {false, false};
  UniqueFd changes;                 // inotify: conmon wrote to the file (or changed the watched directory)
  std::function<void()> on_change;  // DirWatch's
  UniqueFd stop;                    // eventfd: finish()
  off_t offset = 0;
  off_t punched = 0;
  std::string pending;
  std::string batch;  // text for one stream, written when the stream changes or a read is done
  bool batch_to_stderr = false;

  void flush() {
    int s = batch_to_stderr ? 1 : 0;
    if (!batch.empty() && !broken[s]) broken[s] = !write_all(fds[s].get(), batch);
    batch.clear();
  }

  // Everything in the file past what was read: decoded, written, and its blocks given back
  // (the file keeps its size, so conmon's appends land where they would).
  void pass_on() {
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::pread(file.get(), buf, sizeof buf, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      offset += n;
      decode_k8s_log(pending, std::string_view(buf, static_cast<std::size_t>(n)),
                     [this](bool to_stderr, std::string_view text) {
                       if (to_stderr != batch_to_stderr) flush();
                       batch_to_stderr = to_stderr;
                       batch.append(text);
                     });
      flush();
    }
    off_t read_whole = offset & ~static_cast<off_t>(4095);
    if (read_whole > punched &&
        ::fallocate(file.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, read_whole) == 0)
      punched = read_whole;
  }

  void run() {
    sigset_t pipe;  // a closed stdout must fail our write, not kill the process (EPIPE)
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    for (;;) {
      pass_on();
      if (on_change) on_change();
      pollfd p[2] = {{stop.get(), POLLIN, 0}, {changes.get(), POLLIN, 0}};
      // Without an inotify watch (none left to the user), every 50 ms rather than lose output.
      if (::poll(p, changes.valid() ? 2 : 1, changes.valid() ? -1 : 50) < 0) continue;
      if (p[0].revents) break;
      char events[4096];
      while (p[1].revents && ::read(changes.get(), events, sizeof events) > 0) {
      }
    }
    pass_on();  // the rest, to the last byte conmon wrote
  }
};

ContainerLog::ContainerLog(UniqueFd file, int stdout_fd, int stderr_fd, std::optional<DirWatch> also)
    : follower_(std::make_shared<Follower>()) {
  Follower& f = *follower_;
  f.file = std::move(file);
  // Copies: the caller may close its descriptors once the task has started (the supervisor
  // does), and the container writes for as long as it runs.
  int given[2] = {stdout_fd >= 0 ? stdout_fd : STDOUT_FILENO, stderr_fd >= 0 ? stderr_fd : STDERR_FILENO};
  for (int s = 0; s < 2; ++s) {
    f.fds[s].reset(::fcntl(given[s], F_DUPFD_CLOEXEC, 3));
    f.broken[s] = !f.fds[s].valid();  // no such descriptor: that stream's output has nowhere to go
  }
  f.stop.reset(::eventfd(0, EFD_CLOEXEC));
  if (!f.stop.valid()) throw_sys("eventfd for a container's log", errno);
  f.changes.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  std::string self = "/proc/self/fd/" + std::to_string(f.file.get());
  if (f.changes.valid() && ::inotify_add_watch(f.changes.get(), self.c_str(), IN_MODIFY) < 0)
    f.changes.reset();
  if (also) {
    // A directory that cannot be watched: on_change runs at the thread's other wakes only.
    if (f.changes.valid())
      ::inotify_add_watch(f.changes.get(), also->dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
    f.on_change = std::move(also->on_change);
  }
  thread_ = std::thread([follower = follower_] { follower->run(); });
}

ContainerLog& ContainerLog::operator=(ContainerLog&& other) noexcept {
  finish();
  follower_ = std::move(other.follower_);
  thread_ = std::move(other.thread_);
  return *this;
}

void ContainerLog::finish() {
  if (!follower_) return;
  std::uint64_t one = 1;
  if (::write(follower_->stop.get(), &one, sizeof one) < 0) {
  }  // an eventfd's counter does not fill up at 1
  if (thread_.joinable()) thread_.join();
  follower_.reset();
}

}  // namespace cgspawn
