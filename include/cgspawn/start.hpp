// SPDX-License-Identifier: MIT
// Starting a task detached from its caller: a supervisor process (think conmon) spawns it,
// holds it, enforces its timeout, destroys it on request, and leaves its Result in the
// ledger. The caller gets the task's id and may exit; `destroy_task`, `wait_for_task` and
// `reap` (cgspawn/recorded_tasks.hpp) find the task by its id later.
#pragma once

#include <string>

#include "cgspawn/backends.hpp"
#include "cgspawn/task_spec.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

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

// The program cgspawn-supervisor, which start_supervised and tasks bound to a process
// (TaskSpec::bound_to) start detached: with no arguments the supervisor of one task (the
// request on stdin, "ok ID" or "error KIND MESSAGE" on fd 3, then the task run to its end);
// with `--watch LEDGER PID START_TIME` the watcher of a bound process. Returns its exit status.
int supervisor_main(int argc, char** argv);

}  // namespace cgspawn

#pragma GCC visibility pop
