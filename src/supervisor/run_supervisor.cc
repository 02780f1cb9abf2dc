// SPDX-License-Identifier: MIT
// The supervisor of one started task (think conmon): spawns it, reports to the starter, holds
// the task's poll fd, enforces the timeout, destroys the task on SIGTERM (the signal's value,
// if queued, is the grace in ms) or when its main program exits, and leaves the ledger record
// complete with the Result.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "cgspawn/backends.hpp"
#include "cgspawn/error.hpp"
#include "cgspawn/start.hpp"
#include "lineage/lineage.hpp"
#include "lineage/lineage_server.hpp"
#include "supervisor/owner_watcher.hpp"
#include "supervisor/start_request.hpp"
#include "util/deadline.hpp"
#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

// The one report to the starter; fd is closed after it (its number may then be reused).
void report(int& fd, const std::string& line) {
  if (fd < 0) return;
  // The starter may be gone (killed) by now: the write then fails with EPIPE, and the
  // supervisor must not die of SIGPIPE, or its task runs on unsupervised (no timeout, no
  // Result). Set only here, after the task is launched, so the task does not inherit SIG_IGN.
  ::signal(SIGPIPE, SIG_IGN);
  std::string text = line + "\n";
  ssize_t ignored = ::write(fd, text.data(), text.size());
  (void)ignored;
  ::close(fd);
  fd = -1;
}

std::string read_request(int fd) {
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_sys("read the start request", errno);
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
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
    // A queued SIGTERM carries the grace in ms; negative (-1 - ms): its owner or bound process died.
    if (::read(signal_fd, &info, sizeof info) == sizeof info && info.ssi_code == SI_QUEUE) {
      options.owner_gone = info.ssi_int < 0;
      options.grace = std::chrono::milliseconds(options.owner_gone ? -1 - info.ssi_int : info.ssi_int);
    }
  }
  Result result = task.finish(options, reason);
  return result.cleanup.complete() ? 0 : 1;
}

// Spawns the task with its output in files; the reserved task directory goes if that fails.
std::unique_ptr<Task> spawn_task(StartRequest& request, const std::shared_ptr<const Ledger>& ledger,
                                 int null_in) {
  TaskSpec& spec = request.spec;
  ledger->reserve(spec.id);
  try {
    bool defaults = request.stdout_path.empty() || request.stderr_path.empty();
    std::string dir = defaults ? ledger->make_output_dir(spec.id) : "";
    spec.stdout_path = request.stdout_path.empty() ? dir + "/stdout" : request.stdout_path;
    spec.stderr_path = request.stderr_path.empty() ? dir + "/stderr" : request.stderr_path;
    UniqueFd out = open_output(spec.stdout_path);
    UniqueFd err = open_output(spec.stderr_path);
    spec.stdin_fd = null_in;
    spec.stdout_fd = out.get();
    spec.stderr_fd = err.get();
    BackendOptions options = request.backend;
    options.ledger = ledger;
    options.owner_kind = OwnerKind::supervisor;
    options.keep_record = true;
    return make_spawner(options)->spawn(spec);
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
}

int serve(int request_fd, int& report_fd) {
  ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);  // the task must not hold the starter's pipe open
  StartRequest request;
  std::string state_dir = start_request_from_json(read_request(request_fd), request);
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ::dup2(null_in.get(), request_fd);
  UniqueFd signal_fd = block_termination_signals();
  auto ledger = std::make_shared<const Ledger>(state_dir);
  Lineage::share_through(ledger->dir());  // one subscription for every supervisor of the ledger
  // The task's orphans (a daemon it double-forked) become ours rather than the host's PID 1's,
  // which may never reap them: once the task is destroyed, their zombies are reaped here.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::unique_ptr<Task> task = spawn_task(request, ledger, null_in.get());
  report(report_fd, "ok " + task->id());
  int status = supervise(*task, request.spec, signal_fd.get());
  task.reset();
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  return status;
}

}  // namespace

int run_supervisor(int request_fd, int report_fd);

int supervisor_main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--watch")
    return run_owner_watcher(argv[2], std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10), 3);
  if (argc == 3 && std::string(argv[1]) == "--lineage") return run_lineage_server(argv[2], 3, 4);
  return run_supervisor(0, 3);
}

int run_supervisor(int request_fd, int report_fd) {
  try {
    return serve(request_fd, report_fd);
  } catch (const Error& e) {
    report(report_fd, "error " + std::to_string(static_cast<int>(e.kind())) + " " + e.what());
  } catch (const std::exception& e) {
    report(report_fd, "error " + std::to_string(static_cast<int>(ErrorKind::system)) + " " + e.what());
  }
  return 125;
}

}  // namespace cgspawn
