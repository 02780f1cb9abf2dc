// SPDX-License-Identifier: MIT
// Starting the task's main process directly inside its cgroup.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "cgspawn/task_spec.hpp"
#include "launch/isolation.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {

struct LaunchRequest {
  std::string program;  // resolved path (see resolve_program)
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // NAME=VALUE, complete
  std::string cwd;                // empty: unchanged
  int stdio[3] = {-1, -1, -1};    // -1: inherit
  int cgroup_fd = -1;             // the task cgroup's directory; -1: no cgroup
  bool new_process_group = false;
  Isolation isolation;  // namespaces the child makes before exec
};

struct Launched {
  pid_t pid = -1;
  UniqueFd pidfd;
  bool via_clone3 = false;                        // false: fork + join the cgroup before exec
  std::chrono::steady_clock::time_point started;  // just before the process was made
};

// Starts the process; the task is never outside its cgroup, not even for an instant.
// clone3(CLONE_INTO_CGROUP | CLONE_PIDFD), or fork + write cgroup.procs before exec where the
// kernel refuses clone3 (ENOSYS, E2BIG, EOPNOTSUPP). Exec errors come back through a
// close-on-exec pipe and are thrown as cgspawn::Error (not_found, not_executable, ...); the
// failed child is reaped before the throw.
Launched launch(const LaunchRequest& request);

// Looks `name` up as execvp would (PATH from `path_env`, default "/usr/local/bin:/usr/bin:/bin").
// Throws not_found or not_executable naming the program.
std::string resolve_program(const std::string& name, const std::string& path_env);

// The request for the task's main program: argv, environment, cwd and stdio from the spec.
LaunchRequest launch_request_for(const TaskSpec& spec, std::string program);

// The task's environment: the caller's (if inherited) with the spec's NAME=VALUE applied.
std::vector<std::string> build_environment(const TaskSpec& spec);

}  // namespace cgspawn
