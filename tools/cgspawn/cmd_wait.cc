#include "cmd_wait.hpp"

#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iostream>

#include "cgspawn/cgspawn.hpp"
#include "exit_codes.hpp"
#include "ledger_options.hpp"
#include "output.hpp"
#include "task_options.hpp"
#include "util/deadline.hpp"
#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::cli {
namespace {

struct WaitOptions {
  std::string id;
  std::string state_dir;
  std::string timeout;
  std::string result_file;
  bool quiet = false;
};

// Record replacements are renames into the task directory: inotify says when to look again.
UniqueFd watch_task_dir(const std::string& dir) {
  UniqueFd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!fd.valid() || ::inotify_add_watch(fd.get(), dir.c_str(), IN_MOVED_TO | IN_DELETE_SELF) < 0)
    throw_sys("watch " + dir, errno);
  return fd;
}

void drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

// Polls the record until it says exited; nullopt when the deadline passes first.
std::optional<Result> await_result(const Ledger& ledger, const std::string& id, Clock::time_point deadline) {
  UniqueFd watch = watch_task_dir(ledger.task_dir(id));
  for (;;) {
    auto record = ledger.read(id);
    if (!record) throw Error(ErrorKind::unknown_task, "task \"" + id + "\" was destroyed while waiting");
    if (record->state == TaskState::exited && record->result) return record->result;
    if (!owner_alive(record->owner))
      throw Error(ErrorKind::system, "the owner of task \"" + id + "\" (" + record->owner.kind + " " +
                                         std::to_string(record->owner.pid) + ") died before the task ended; "
                                         "`cgspawn reap` cleans up");
    // The owner's death is not an inotify event: look again at least every 200 ms.
    auto next = std::min(deadline, Clock::now() + std::chrono::milliseconds(200));
    if (wait_readable(watch.get(), next) == WaitResult::timed_out && Clock::now() >= deadline) return std::nullopt;
    drain(watch.get());
  }
}

int wait_command(const WaitOptions& options) {
  auto ledger = open_ledger(options.state_dir);
  auto deadline = options.timeout.empty() ? Clock::time_point::max()
                                          : Clock::now() + parse_duration_option("--timeout", options.timeout);
  ResultFile result_file(options.result_file);
  if (!ledger->read(options.id)) throw Error(ErrorKind::unknown_task, "no task \"" + options.id + "\" in " + ledger->dir());
  auto result = await_result(*ledger, options.id, deadline);
  if (!result) {
    if (!options.quiet) print_error("task " + options.id + " is still running after " + options.timeout);
    return kStillRunning;
  }
  result_file.write(to_json(*result) + "\n");
  if (!options.quiet) std::cerr << describe(*result);
  return exit_code_for(*result, 0);
}

}  // namespace

Verb add_wait_command(CLI::App& app) {
  auto options = std::make_shared<WaitOptions>();
  CLI::App* cmd = app.add_subcommand("wait", "Wait until a started task has ended; exit as `run` would");
  cmd->add_option("id", options->id, "Task id")->required();
  cmd->add_option("--timeout", options->timeout, "Give up after DURATION (exit 123)");
  cmd->add_option("--result", options->result_file, "Write the Result as JSON to FILE")->check(non_empty());
  cmd->add_flag("-q,--quiet", options->quiet, "No summary on stderr");
  add_state_dir_option(*cmd, options->state_dir);
  return {cmd, [options] { return wait_command(*options); }};
}

}  // namespace cgspawn::cli
