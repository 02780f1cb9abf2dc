// SPDX-License-Identifier: MIT
#include "cmd_status.hpp"

#include <iostream>

#include "cgspawn/cgspawn.hpp"
#include "ledger_options.hpp"
#include "task_views.hpp"

namespace cgspawn::cli {
namespace {

struct StatusOptions {
  std::string id;
  std::string state_dir;
  bool json = false;
};

int status(const StatusOptions& options) {
  auto ledger = open_ledger(options.state_dir);
  auto record = ledger->read(options.id);
  if (!record) throw Error(ErrorKind::unknown_task, "no task \"" + options.id + "\" in " + ledger->dir());
  if (options.json)
    std::cout << nlohmann::json{{"schema", 1}, {"task", nlohmann::json::parse(to_json(*record, -1))}}.dump(2)
              << "\n";
  else
    std::cout << task_text(*record);
  return 0;
}

}  // namespace

Verb add_status_command(CLI::App& app) {
  auto options = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand("status", "Show one task's record");
  cmd->add_option("id", options->id, "Task id")->required();
  add_state_dir_option(*cmd, options->state_dir);
  cmd->add_flag("--json", options->json, "Machine-readable output");
  return {cmd, [options] { return status(*options); }};
}

}  // namespace cgspawn::cli
