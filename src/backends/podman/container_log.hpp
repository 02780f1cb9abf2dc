// SPDX-License-Identifier: MIT
// A container's output with no podman process beside it. conmon writes what the container
// writes to stdout and stderr as k8s-file lines ("TIME STREAM F|P TEXT") into a file that
// cgspawn holds open and nobody can name: made unlinked, and given to podman as
// /proc/PID/fd/N. A thread of the task's owner follows it into the task's stdout and stderr.
// `podman logs -f` did this before, at 33 MiB and 30 ms of CPU per 5 s for each running
// container here. The file ends with the last process that holds it (conmon, or the owner),
// so nothing of it is ever left to remove; what has been passed on is punched out of it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "util/unique_fd.hpp"

namespace cgspawn {

// The unnamed file conmon writes into (on /var/tmp's disk: a chatty container would fill a
// tmpfs). Throws when it cannot be made.
class ContainerLogFile {
 public:
  static ContainerLogFile create();
  // Where podman is told to write it (--log-opt path=): this process's descriptor of it.
  std::string path_for_podman() const;
  UniqueFd& fd() { return fd_; }

 private:
  UniqueFd fd_;
};

// Decodes k8s-file lines: `bytes` is what was read next, `pending` the line cut short by the
// last read (kept for the next). `out` gets each line's text for stdout or stderr, then "\n"
// where the container's line ended there (tag F; P: it goes on in the next). Lines of another
// form are dropped.
void decode_k8s_log(std::string& pending, std::string_view bytes,
                    const std::function<void(bool to_stderr, std::string_view text)>& out);

// Follows the file from its start on a thread of its own until finish().
class ContainerLog {
 public:
  // A directory the thread watches too (in the same inotify instance: one per task, where
  // root has 128 by default for the whole host), and what it does there on its thread: at its
  // start and after each wake (conmon_end.hpp: the container's exit file).
  struct DirWatch {
    std::string dir;
    std::function<void()> on_change;
  };

  ContainerLog() = default;
  // stdout_fd, stderr_fd: where the container's output goes (-1: this process's own); copied,
  // so the caller may close them.
  ContainerLog(UniqueFd file, int stdout_fd, int stderr_fd, std::optional<DirWatch> also = std::nullopt);
  ContainerLog(ContainerLog&&) = default;
  ContainerLog& operator=(ContainerLog&& other) noexcept;  // finishes what it followed
  ~ContainerLog() { finish(); }

  // conmon has exited, or the container is being destroyed: passes on what is in the file
  // now and stops following. Idempotent.
  void finish();

 private:
  struct Follower;
  std::shared_ptr<Follower> follower_;
  std::thread thread_;
};

}  // namespace cgspawn
