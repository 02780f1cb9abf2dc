#include "cmd_start.hpp"

#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "../supervisor/spec_json.hpp"
#include "cgspawn/cgspawn.hpp"
#include "cgspawn/parse.hpp"
#include "exit_codes.hpp"
#include "ledger_options.hpp"
#include "output.hpp"
#include "task_options.hpp"
#include "util/pipe.hpp"
#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::cli {
namespace {

struct StartOptions {
  TaskOptions task;
  std::string state_dir;
  std::string stdout_path;
  std::string stderr_path;
};

std::string absolute(const std::string& path) {
  return path.empty() ? path : std::filesystem::absolute(path).string();
}

// The supervisor sits next to this binary (in the build tree and once installed).
std::string supervisor_path() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "cgspawn-supervisor").string();
}

// Double fork: the supervisor is reparented away from `start`, in a session of its own.
void exec_supervisor(const std::string& path, int request_fd, int report_fd) {
  if (::fork() != 0) ::_exit(0);
  ::setsid();
  int null_fd = ::open("/dev/null", O_RDWR);
  ::dup2(request_fd, 0);
  ::dup2(null_fd, 1);
  ::dup2(null_fd, 2);
  ::dup2(report_fd, 3);
  ::execl(path.c_str(), "cgspawn-supervisor", static_cast<char*>(nullptr));
  ::_exit(127);
}

std::string read_all(int fd) {
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// "ok ID" or "error KIND MESSAGE" from the supervisor.
int handle_report(const std::string& report) {
  if (report.rfind("ok ", 0) == 0) {
    std::cout << report.substr(3);
    return 0;
  }
  if (report.rfind("error ", 0) == 0) {
    std::string rest = report.substr(6);
    auto space = rest.find(' ');
    auto kind = static_cast<ErrorKind>(std::stoi(rest.substr(0, space)));
    std::string message = rest.substr(space + 1);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    print_error(message);
    return exit_code_for(Error(kind, message));
  }
  print_error("the supervisor exited before reporting; `cgspawn list` shows what it left");
  return kCgspawnError;
}

int start(const StartOptions& options) {
  supervisor::StartRequest request;
  request.spec = to_task_spec(options.task);
  if (request.spec.id.empty()) request.spec.id = make_task_id();
  request.state_dir = open_ledger(options.state_dir)->dir();  // checked here, before anything
  request.backend = to_backend_options(options.task);
  // --chdir is a path on the task's own host: only a local task starts in our directory.
  bool local = request.backend.backend == "process" || request.backend.backend == "systemd";
  if (local) request.spec.cwd = absolute(request.spec.cwd.empty() ? "." : request.spec.cwd);
  make_spawner(request.backend);  // an unknown or unusable backend fails here, before any fork
  request.stdout_path = absolute(options.stdout_path);
  request.stderr_path = absolute(options.stderr_path);
  Pipe requests = make_pipe(), reports = make_pipe();
  pid_t child = ::fork();
  if (child < 0) throw_sys("fork", errno);
  if (child == 0) exec_supervisor(supervisor_path(), requests.read.get(), reports.write.get());
  ::waitpid(child, nullptr, 0);
  ::signal(SIGPIPE, SIG_IGN);  // a supervisor that died early must not kill `start` too
  requests.read.reset();
  reports.write.reset();
  std::string text = supervisor::to_json(request);
  if (::write(requests.write.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw_sys("hand the task to the supervisor", errno);
  requests.write.reset();
  return handle_report(read_all(reports.read.get()));
}

}  // namespace

Verb add_start_command(CLI::App& app) {
  auto options = std::make_shared<StartOptions>();
  CLI::App* cmd = app.add_subcommand("start", "Start PROGRAM detached, owned by a supervisor; print its id");
  add_task_options(*cmd, options->task);
  add_state_dir_option(*cmd, options->state_dir);
  cmd->add_option("--stdout", options->stdout_path, "Task stdout (default: <state dir>/<id>/stdout)");
  cmd->add_option("--stderr", options->stderr_path, "Task stderr (default: <state dir>/<id>/stderr)");
  return {cmd, [options] { return start(*options); }};
}

}  // namespace cgspawn::cli
