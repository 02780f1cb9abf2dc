// SPDX-License-Identifier: MIT
// The end of a container, as its conmon tells it. conmon writes the container's exit code to
// <exit dir>/<container id> (by a rename) the moment the container ends, then starts podman's
// cleanup process, which reads and removes that file (about 30 ms later here) and only then
// lets conmon exit. A thread watching the exit directory sees the end and the code at once,
// where conmon's exit alone would add the cleanup's podman process and then a `podman inspect`
// of ours for the code: two podman starts (about 60 ms here) in the path of every task that
// ends by itself. conmon's exit (a pidfd) still ends the wait when no exit file is seen: conmon
// killed while its container ran, or the file taken before we looked.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "backends/podman/container_ref.hpp"

namespace cgspawn {

class ConmonEnd {
 public:
  // ref: podman's id of the container and its conmon (pid + start time). The exit directory
  // is read from conmon's own command line (--exit-dir), so it is what podman's configuration
  // made it; without one (or without inotify), conmon's exit is all that is watched.
  explicit ConmonEnd(const ContainerRef& ref);
  ~ConmonEnd();
  ConmonEnd(const ConmonEnd&) = delete;
  ConmonEnd& operator=(const ConmonEnd&) = delete;

  // Readable once the container has ended (its exit file was seen) or its conmon has gone.
  int fd() const;
  // Once fd() is readable: the code from the exit file; nothing when conmon went without one
  // seen (podman's record then has it, or nothing does).
  std::optional<int> exit_code() const;

 private:
  struct Watcher;
  std::shared_ptr<Watcher> watcher_;
  std::thread thread_;
};

// The value of `--exit-dir` in a NUL-separated command line; empty when it has none.
std::string exit_dir_in_cmdline(const std::string& cmdline);

}  // namespace cgspawn
