// SPDX-License-Identifier: MIT
#include "cmd_run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cgspawn/cgspawn.hpp"
#include "exit_codes.hpp"
#include "ledger_options.hpp"
#include "output.hpp"
#include "signals.hpp"
#include "task_options.hpp"

namespace cgspawn::cli {
namespace {

// A remote task's kill session is held ready this long: past it, the session's one round trip
// is small beside the task's own time, and its slot of the remote sshd's MaxSessions is not.
constexpr Duration kRunKillSessionAhead = std::chrono::seconds(2);

struct RunOptions {
  TaskOptions task;
  std::string result_file;
  std::string state_dir;
  bool quiet = false;
};

enum class Event { exited, timed_out, signalled };

// `run` is the subreaper of its task: the task's orphans (a double-forked daemon) become its
// children instead of the host's PID 1's, which may never reap them; once the task is
// destroyed their zombies are reaped here. Only this program does so: the library never
// reaps a child it did not make.
void become_subreaper() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void reap_orphans() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

// Waits for the first of: the main process exits, the timeout, a termination signal.
Event wait_for_event(Task& task, const TaskSpec& spec, const TerminationSignals& signals, int& signal) {
  auto deadline = spec.timeout ? Clock::now() + *spec.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(task.poll_fd(), deadline, signals.fd());
  if (r == WaitResult::ready) return Event::exited;
  if (r == WaitResult::timed_out) return Event::timed_out;
  signal = signals.take();
  return Event::signalled;
}

int run(const RunOptions& options) {
  TaskSpec spec = to_task_spec(options.task);
  ResultFile result_file(options.result_file);  // opened first: a bad path starts nothing
  TerminationSignals signals;
  become_subreaper();
  // Recorded in the ledger, owned by this process: if it is killed, `cgspawn reap` finds the task.
  BackendOptions backend = to_backend_options(options.task);
  backend.ledger = open_ledger(options.state_dir);
  backend.owner_kind = OwnerKind::run;
  // One task, waited for here: its destroy follows its end at once (docs/backends.md, remote).
  backend.kill_session_ahead = kRunKillSessionAhead;
  auto spawner = make_spawner(backend);
  std::unique_ptr<Task> task;
  try {
    task = spawner->spawn(spec);
  } catch (const Error& e) {
    print_error(e.what());
    result_file.discard();
    return exit_code_for(e);
  }
  int signal = 0;
  Event event = wait_for_event(*task, spec, signals, signal);
  DestroyOptions destroy;
  destroy.grace = spec.grace;
  destroy.interrupt_fd = signals.fd();  // a (second) signal during the grace skips the rest of it
  Result result =
      task->finish(destroy, event == Event::timed_out ? ExitReason::timed_out : ExitReason::destroyed);
  reap_orphans();
  result_file.write(to_json(result) + "\n");
  if (!options.quiet) std::cerr << describe(result);
  return exit_code_for(result, signal);
}

}  // namespace

Verb add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* run_cmd =
      app.add_subcommand("run", "Run PROGRAM in a cgroup of its own; destroy and verify on exit");
  add_task_options(*run_cmd, options->task);
  run_cmd->add_option("--result", options->result_file, "Write the Result as JSON to FILE")
      ->check(non_empty());
  run_cmd->add_flag("-q,--quiet", options->quiet, "No summary on stderr");
  add_state_dir_option(*run_cmd, options->state_dir);
  return {run_cmd, [options] { return run(*options); }};
}

}  // namespace cgspawn::cli
