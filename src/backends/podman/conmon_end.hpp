// SPDX-License-Identifier: MIT
// The end of a container, as its conmon tells it. conmon writes the container's exit code to
// <exit dir>/<container id> (by a rename) the moment the container ends, then starts podman's
// cleanup process, which reads and removes that file (about 30 ms later here) and only then
// lets conmon exit. Seeing the file gives the end and the code at once, where conmon's exit
// alone would add the cleanup's podman process and then a `podman inspect` of ours for the
// code: two podman starts (about 60 ms here) in the path of every task that ends by itself.
// The file is looked for by check(), which the container log's thread runs on each change in
// the exit directory (container_log.hpp: the same inotify instance and thread as the log's).
// conmon's exit still ends the wait where no file was seen: conmon killed while its container
// ran, the file taken before it was looked for, or a kept container (no log thread of ours).
#pragma once

#include <atomic>
#include <climits>
#include <optional>
#include <string>

#include "backends/podman/container_ref.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {

class ConmonEnd {
 public:
  // ref: podman's id of the container and its conmon (pid + start time). The exit directory
  // is read from conmon's own command line (--exit-dir), so it is what podman's configuration
  // made it.
  explicit ConmonEnd(const ContainerRef& ref);

  // Empty when conmon (pid + start time) is gone or names none: there is nothing to check.
  const std::string& exit_dir() const { return dir_; }
  // Looks for the exit file; once it is there, fd() is readable and exit_code() has its code.
  // Safe on another thread than fd()'s and exit_code()'s.
  void check();

  // Readable once the exit file was seen or conmon has gone, and not before (epoll over the
  // two: no other container's end makes it readable).
  int fd() const { return any_.get(); }
  // Once fd() is readable: the code from the exit file; nothing when conmon went without one
  // seen (podman's record then has it, or nothing does).
  std::optional<int> exit_code() const;

 private:
  UniqueFd conmon_;  // conmon's pidfd, or an eventfd readable at once if conmon had gone
  UniqueFd seen_;    // eventfd: the exit file was seen
  UniqueFd any_;     // epoll over both
  std::string dir_;
  std::string path_;
  std::atomic<int> code_{INT_MIN};
};

// The value of `--exit-dir` in a NUL-separated command line; empty when it has none.
std::string exit_dir_in_cmdline(const std::string& cmdline);

}  // namespace cgspawn
