// SPDX-License-Identifier: MIT
// What a task's child does between fork (or clone3) and exec, shared by launch() and
// HeldChild. After the fork the child may only make async-signal-safe calls (no allocation),
// so everything is prepared in the parent as a ChildPlan; launch()'s child shares the parent's
// memory until exec (util/clone3_vfork.hpp), so it writes nothing but its own stack (and errno).
#pragma once

#include <optional>
#include <vector>

#include "cgspawn/error.hpp"
#include "launch/launcher.hpp"

namespace cgspawn {

enum class ChildStage : int { join_cgroup = 1, stdio, chdir, exec, isolate };

struct ChildFailure {
  ChildStage stage;
  int err;
};

struct ChildPlan {
  const char* program;
  std::vector<char*> argv;  // pointers into the LaunchRequest: it must outlive the fork
  std::vector<char*> envp;
  const char* cwd;
  int stdio[3];
  int go_fd = -1;    // when >= 0: wait for one byte on it before anything else (exit 126 at EOF)
  int join_fd = -1;  // when >= 0: cgroup.procs of the task cgroup, joined before exec
  bool new_process_group = false;
  int error_pipe;              // close-on-exec: EOF says exec happened, a ChildFailure says what failed
  const Isolation* isolation;  // namespaces of the task's own, made before exec (in the request)
};

ChildPlan make_child_plan(const LaunchRequest& request, int error_pipe);

// In the child: unblocks every signal (the caller may block some for a signalfd), then the
// plan's steps, then execve. Reports a failure on the error pipe and exits 127.
[[noreturn]] void child_exec(const ChildPlan& plan);

// In the parent: the child's failure report, or nullopt once the pipe closed at exec.
std::optional<ChildFailure> read_child_failure(int error_read_end);

// The error spawn throws for a failure: not_found, not_executable, invalid_argument (chdir) or
// system, naming the program or path.
Error child_error(const ChildFailure& failure, const LaunchRequest& request);

}  // namespace cgspawn
