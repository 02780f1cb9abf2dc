// SPDX-License-Identifier: MIT
#include "cmd_reap.hpp"

#include <iostream>

#include "cgspawn/cgspawn.hpp"
#include "ledger_options.hpp"
#include "output.hpp"
#include "task_options.hpp"
#include "task_views.hpp"

namespace cgspawn::cli {
namespace {

struct ReapOptions {
  std::string state_dir;
  std::vector<std::string> labels;
  std::string grace = "5s";
  bool orphans = false;
  bool json = false;
};

void print(const ReapReport& report, bool json) {
  for (const auto& c : report.corrupt) print_error(c);  // as `list` does: by file, on stderr
  if (json) {
    std::cout << to_json(report) << "\n";
    return;
  }
  for (const auto& t : report.tasks) std::cout << task_report_text(t);
  if (!report.orphans.resources.empty()) std::cout << "orphans: " << describe(report.orphans);
  if (report.tasks.empty() && report.orphans.resources.empty() && report.corrupt.empty())
    std::cout << "nothing to reap\n";
}

int reap_command(const ReapOptions& options) {
  DestroyOptions destroy_options;
  destroy_options.grace = parse_duration_option("--grace", options.grace);
  auto labels = parse_labels(options.labels);
  auto ledger = open_ledger(options.state_dir);
  ReapReport report = reap(*ledger, labels, options.orphans, destroy_options);
  print(report, options.json);
  return report.complete() ? 0 : 1;
}

}  // namespace

Verb add_reap_command(CLI::App& app) {
  auto options = std::make_shared<ReapOptions>();
  CLI::App* cmd =
      app.add_subcommand("reap", "Destroy every task whose owner is gone; report (exit 1 if anything stays)");
  add_state_dir_option(*cmd, options->state_dir);
  cmd->add_option("--label", options->labels, "Only tasks with KEY=VALUE (repeatable)");
  cmd->add_option("--grace", options->grace, "SIGTERM to SIGKILL delay (default 5s)");
  cmd->add_flag("--orphans", options->orphans,
                "Also destroy task cgroups of this ledger that have no record");
  cmd->add_flag("--json", options->json, "Machine-readable output");
  return {cmd, [options] { return reap_command(*options); }};
}

}  // namespace cgspawn::cli
