// SPDX-License-Identifier: MIT
// Starting a task detached from its caller: a supervisor process (think conmon) spawns it,
// holds it, enforces its timeout, destroys it on request, and leaves its Result in the
// ledger. The caller gets the task's id and may exit; `destroy_task`, `wait_for_task` and
// `reap` (cgspawn/recorded_tasks.hpp) find the task by its id later.
#pragma once

#include <string>

#include "cgspawn/backends.hpp"
#include "cgspawn/task_spec.hpp"

namespace cgspawn {

struct StartRequest {
  TaskSpec spec;            // the task; its stdin is /dev/null, its stdio fds are ignored
  BackendOptions backend;   // the backend and its options; `ledger` is required
  std::string stdout_path;  // "" = <state dir>/<id>/stdout
  std::string stderr_path;  // "" = <state dir>/<id>/stderr
};

// Hands the task to a new supervisor and returns its id once the task runs. Throws
// cgspawn::Error as Spawner::spawn would (the supervisor's own error), and leaves nothing
// behind then. The supervisor program is $CGSPAWN_SUPERVISOR, else cgspawn-supervisor next
// to the calling program, else the installed one.
std::string start_supervised(const StartRequest& request);

// The supervisor's side, for the program cgspawn-supervisor: reads the request from
// `request_fd`, reports "ok ID" or "error KIND MESSAGE" on `report_fd`, runs the task to its
// end. Returns the program's exit status.
int run_supervisor(int request_fd, int report_fd);

}  // namespace cgspawn
