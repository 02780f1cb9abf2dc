// SPDX-License-Identifier: MIT
#include "cmd_wait.hpp"

#include <iostream>

#include "cgspawn/cgspawn.hpp"
#include "exit_codes.hpp"
#include "ledger_options.hpp"
#include "output.hpp"
#include "task_options.hpp"

namespace cgspawn::cli {
namespace {

struct WaitOptions {
  std::string id;
  std::string state_dir;
  std::string timeout;
  std::string result_file;
  bool quiet = false;
};

int wait_command(const WaitOptions& options) {
  auto ledger = open_ledger(options.state_dir);
  auto deadline = options.timeout.empty()
                      ? Clock::time_point::max()
                      : Clock::now() + parse_duration_option("--timeout", options.timeout);
  ResultFile result_file(options.result_file);
  auto result = wait_for_task(*ledger, options.id, deadline);
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
