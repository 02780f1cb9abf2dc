// SPDX-License-Identifier: MIT
#include "cmd_destroy.hpp"

#include <iostream>

#include "cgspawn/cgspawn.hpp"
#include "ledger_options.hpp"
#include "task_options.hpp"
#include "task_views.hpp"

namespace cgspawn::cli {
namespace {

struct DestroyCommandOptions {
  std::string id;
  std::string state_dir;
  std::string grace = "5s";
  bool json = false;
};

int destroy(const DestroyCommandOptions& options) {
  DestroyOptions destroy_options;
  destroy_options.grace = parse_duration_option("--grace", options.grace);
  auto ledger = open_ledger(options.state_dir);
  TaskReport report = destroy_task(*ledger, options.id, destroy_options);
  if (options.json) {
    std::cout << to_json(report) << "\n";
  } else {
    std::cout << task_report_text(report);
  }
  return report.cleanup.complete() ? 0 : 1;
}

}  // namespace

Verb add_destroy_command(CLI::App& app) {
  auto options = std::make_shared<DestroyCommandOptions>();
  CLI::App* cmd =
      app.add_subcommand("destroy", "Destroy a task, verify, print its CleanupReport (exit 1 if incomplete)");
  cmd->add_option("id", options->id, "Task id")->required();
  cmd->add_option("--grace", options->grace, "SIGTERM to SIGKILL delay (default 5s)");
  add_state_dir_option(*cmd, options->state_dir);
  cmd->add_flag("--json", options->json, "Machine-readable output");
  return {cmd, [options] { return destroy(*options); }};
}

}  // namespace cgspawn::cli
