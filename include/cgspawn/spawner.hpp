// SPDX-License-Identifier: MIT
// Spawner and Task: the surface every backend implements.
//
// Threading: a Spawner may be used from several threads at once. One Task must be used from
// one thread at a time. Nothing here installs signal handlers, calls waitpid(-1), or moves the
// caller's own process into another cgroup; every fd it opens is close-on-exec.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cgspawn/capabilities.hpp"
#include "cgspawn/result.hpp"
#include "cgspawn/task_spec.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

struct DestroyOptions {
  Duration grace = std::chrono::seconds(5);            // SIGTERM, then this long, then SIGKILL
  Duration verify_timeout = std::chrono::seconds(10);  // after SIGKILL: how long to wait for empty
  int interrupt_fd = -1;    // when this fd becomes readable the rest of the grace is skipped
  bool owner_gone = false;  // destroyed because its owner or bound process died: exit.cause owner-gone
};

class Task {
 public:
  virtual ~Task() = default;
  Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  virtual const std::string& id() const = 0;
  virtual const std::string& backend() const = 0;

  // Readable once the task's main process has exited: put it in your own poll loop.
  virtual int poll_fd() const = 0;

  // The main process's exit, if it has ended (never blocks).
  virtual std::optional<ExitStatus> try_wait() = 0;

  // Blocks until the main process exits or the spec's timeout fires, then destroys whatever is
  // left with the spec's grace period and returns the Result.
  virtual Result wait() = 0;

  // Destroys the task now and returns the Result. If the main process still runs, its exit
  // reason becomes `reason_if_running` (destroyed, or timed_out for a caller-driven timeout).
  virtual Result finish(const DestroyOptions& options,
                        ExitReason reason_if_running = ExitReason::destroyed) = 0;
};

class Spawner {
 public:
  virtual ~Spawner() = default;
  virtual Capabilities capabilities() const = 0;
  // Starts the task; throws cgspawn::Error and leaves nothing behind when it cannot.
  // A Task that is dropped before finish()/wait() is destroyed without grace.
  virtual std::unique_ptr<Task> spawn(const TaskSpec& spec) = 0;
};

}  // namespace cgspawn

#pragma GCC visibility pop
