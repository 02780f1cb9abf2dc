// SPDX-License-Identifier: MIT
#include "cmd_start.hpp"

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cgspawn/cgspawn.hpp"
#include "ledger_options.hpp"
#include "task_options.hpp"

namespace cgspawn::cli {
namespace {

struct StartOptions {
  TaskOptions task;
  std::string state_dir;
  std::string stdout_path;
  std::string stderr_path;
  int bind_pid = 0;
  bool json = false;
};

std::string absolute(const std::string& path) {
  return path.empty() ? path : std::filesystem::absolute(path).string();
}

int start(const StartOptions& options) {
  StartRequest request;
  request.spec = to_task_spec(options.task);
  request.backend = to_backend_options(options.task);
  request.backend.ledger = open_ledger(options.state_dir);  // checked here, before anything
  // --chdir is a path on the task's own host: only a local task starts in our directory.
  bool local = request.backend.backend == "process" || request.backend.backend == "systemd";
  if (local) request.spec.cwd = absolute(request.spec.cwd.empty() ? "." : request.spec.cwd);
  make_spawner(request.backend);  // an unknown or unusable backend fails here, before any fork
  request.stdout_path = absolute(options.stdout_path);
  request.stderr_path = absolute(options.stderr_path);
  request.spec.bound_to = options.bind_pid;
  std::string id = start_supervised(request);
  if (!options.json) {
    std::cout << id << "\n";
    return 0;
  }
  // The record as the supervisor left it: main pid, resources, output paths, all in one call.
  std::optional<TaskRecord> record = request.backend.ledger->read(id);
  if (!record)
    throw Error(ErrorKind::unknown_task, "task \"" + id + "\" was destroyed before its record could be read");
  std::cout << nlohmann::json{{"schema", 1}, {"task", nlohmann::json::parse(to_json(*record, -1))}}.dump(2)
            << "\n";
  return 0;
}

}  // namespace

Verb add_start_command(CLI::App& app) {
  auto options = std::make_shared<StartOptions>();
  CLI::App* cmd = app.add_subcommand("start", "Start PROGRAM detached, owned by a supervisor; print its id");
  add_task_options(*cmd, options->task);
  add_state_dir_option(*cmd, options->state_dir);
  cmd->add_option("--stdout", options->stdout_path, "Task stdout (default: <state dir>/<id>/stdout)");
  cmd->add_option("--stderr", options->stderr_path, "Task stderr (default: <state dir>/<id>/stderr)");
  cmd->add_option("--bind-pid", options->bind_pid, "Destroy the task when process PID dies");
  cmd->add_flag("--json", options->json, "Print the task's record (id, main pid, resources, output) as JSON");
  return {cmd, [options] { return start(*options); }};
}

}  // namespace cgspawn::cli
