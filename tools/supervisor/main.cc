// cgspawn-supervisor: owns one task started by `cgspawn start` (think conmon). It spawns the
// task, reports to `start` on fd 3, holds the pidfd, enforces the timeout, destroys the task
// on SIGTERM (the signal's value, if queued, is the grace in ms) or when its main process
// exits, and leaves the ledger record complete with the Result.
//
// stdin: the StartRequest as JSON. fd 3: "ok ID\n", or "error KIND MESSAGE\n" (KIND: ErrorKind).
#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <string>

#include "cgspawn/cgspawn.hpp"
#include "spec_json.hpp"
#include "util/deadline.hpp"
#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::supervisor {
namespace {

constexpr int kReportFd = 3;

void report(const std::string& line) {
  // `start` may be gone (killed) by now: the write then fails with EPIPE, and the supervisor
  // must not die of SIGPIPE, or its task runs on unsupervised (no timeout, no Result). Set
  // only here, after the task is launched, so the task does not inherit SIG_IGN.
  ::signal(SIGPIPE, SIG_IGN);
  std::string text = line + "\n";
  ssize_t ignored = ::write(kReportFd, text.data(), text.size());
  (void)ignored;
  ::close(kReportFd);
}

UniqueFd open_output(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) throw_sys("open " + path, errno);
  return fd;
}

UniqueFd block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return UniqueFd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
}

// Runs the task to its end. Returns the supervisor's exit status.
int supervise(Task& task, const TaskSpec& spec, int signal_fd) {
  auto deadline = spec.timeout ? Clock::now() + *spec.timeout : Clock::time_point::max();
  WaitResult r = wait_readable(task.poll_fd(), deadline, signal_fd);
  DestroyOptions options;
  options.grace = spec.grace;
  options.interrupt_fd = signal_fd;
  ExitReason reason = r == WaitResult::timed_out ? ExitReason::timed_out : ExitReason::destroyed;
  if (r == WaitResult::interrupted) {
    signalfd_siginfo info{};
    if (::read(signal_fd, &info, sizeof info) == sizeof info && info.ssi_code == SI_QUEUE)
      options.grace = std::chrono::milliseconds(info.ssi_int);
  }
  Result result = task.finish(options, reason);
  return result.cleanup.complete() ? 0 : 1;
}

int run() {
  ::fcntl(kReportFd, F_SETFD, FD_CLOEXEC);  // the task must not hold `start`'s pipe open
  std::string input(std::istreambuf_iterator<char>(std::cin), {});
  StartRequest request = start_request_from_json(input);
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ::dup2(null_in.get(), 0);
  UniqueFd signal_fd = block_termination_signals();
  auto ledger = std::make_shared<const Ledger>(request.state_dir);
  TaskSpec spec = request.spec;
  ledger->reserve(spec.id);
  std::string dir = ledger->task_dir(spec.id);
  std::unique_ptr<Task> task;
  try {
    spec.stdout_path = request.stdout_path.empty() ? dir + "/stdout" : request.stdout_path;
    spec.stderr_path = request.stderr_path.empty() ? dir + "/stderr" : request.stderr_path;
    UniqueFd out = open_output(spec.stdout_path);
    UniqueFd err = open_output(spec.stderr_path);
    spec.stdin_fd = null_in.get();
    spec.stdout_fd = out.get();
    spec.stderr_fd = err.get();
    BackendOptions options = request.backend;
    options.ledger = ledger;
    options.owner_kind = "supervisor";
    options.keep_record = true;
    task = make_spawner(options)->spawn(spec);
  } catch (...) {
    // Reserved, never recorded: nothing else was made. A record there now is another
    // caller's, who took the id between our reservation and our record: leave it.
    bool recorded_by_another = false;
    try {
      recorded_by_another = ledger->read(spec.id).has_value();
    } catch (const std::exception&) {
      recorded_by_another = true;  // unreadable: not ours to remove
    }
    if (!recorded_by_another) ledger->remove(spec.id);
    throw;
  }
  report("ok " + task->id());
  return supervise(*task, spec, signal_fd.get());
}

}  // namespace
}  // namespace cgspawn::supervisor

int main() {
  try {
    return cgspawn::supervisor::run();
  } catch (const cgspawn::Error& e) {
    cgspawn::supervisor::report("error " + std::to_string(static_cast<int>(e.kind())) + " " + e.what());
  } catch (const std::exception& e) {
    cgspawn::supervisor::report("error " + std::to_string(static_cast<int>(cgspawn::ErrorKind::system)) + " " + e.what());
  }
  return 125;
}
