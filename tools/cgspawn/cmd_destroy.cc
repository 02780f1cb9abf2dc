// SPDX-License-Identifier: MIT
#include "cmd_destroy.hpp"

#include <iostream>

#include "cgspawn/cgspawn.hpp"
#include "exit_codes.hpp"
#include "ledger_options.hpp"
#include "output.hpp"
#include "task_options.hpp"
#include "task_views.hpp"

namespace cgspawn::cli {
namespace {

struct DestroyCommandOptions {
  std::string id;
  CLI::Option* id_given = nullptr;
  std::vector<std::string> labels;
  std::string state_dir;
  std::string grace = "5s";
  bool json = false;
};

int destroy_one(const Ledger& ledger, const std::string& id, const DestroyOptions& options, bool json) {
  TaskReport report;
  try {
    report = destroy_task(ledger, id, options);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::unknown_task) throw;
    // Already destroyed (by a concurrent caller, a reap) or never there: not a failure.
    print_error(std::string(e.what()) + ": nothing to destroy");
    return kNothingToDestroy;
  }
  if (json)
    std::cout << to_json(report) << "\n";
  else
    std::cout << task_report_text(report);
  return report.cleanup.complete() ? 0 : 1;
}

// Every task with all of the labels, in one call and one report.
int destroy_labeled(const Ledger& ledger, const std::map<std::string, std::string>& labels,
                    const DestroyOptions& options, bool json) {
  ReapReport report = destroy_tasks(ledger, labels, options);
  for (const auto& c : report.corrupt) print_error(c);
  if (json) {
    std::cout << to_json(report) << "\n";
  } else {
    for (const auto& t : report.tasks) std::cout << task_report_text(t);
  }
  if (report.tasks.empty() && report.corrupt.empty()) {
    if (!json) print_error("no task carries those labels: nothing to destroy");
    return kNothingToDestroy;
  }
  return report.complete() ? 0 : 1;
}

int destroy(const DestroyCommandOptions& options) {
  DestroyOptions destroy_options;
  destroy_options.grace = parse_duration_option("--grace", options.grace);
  bool by_id = options.id_given->count() > 0;
  if (by_id == !options.labels.empty())
    throw CLI::ValidationError("destroy", "give a task id or --label KEY=VALUE (not both)");
  auto ledger = open_ledger(options.state_dir);
  if (!options.labels.empty())
    return destroy_labeled(*ledger, parse_labels(options.labels), destroy_options, options.json);
  return destroy_one(*ledger, options.id, destroy_options, options.json);
}

}  // namespace

Verb add_destroy_command(CLI::App& app) {
  auto options = std::make_shared<DestroyCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "destroy",
      "Destroy a task (or every task with --label), verify, print the report (exit 1 if incomplete)");
  options->id_given = cmd->add_option("id", options->id, "Task id");
  cmd->add_option("--label", options->labels, "Every task with KEY=VALUE instead (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--grace", options->grace, "SIGTERM to SIGKILL delay (default 5s)");
  add_state_dir_option(*cmd, options->state_dir);
  cmd->add_flag("--json", options->json, "Machine-readable output");
  return {cmd, [options] { return destroy(*options); }};
}

}  // namespace cgspawn::cli
