// SPDX-License-Identifier: MIT
#include "cmd_list.hpp"

#include <iostream>

#include "cgspawn/cgspawn.hpp"
#include "ledger_options.hpp"
#include "output.hpp"
#include "task_views.hpp"

namespace cgspawn::cli {
namespace {

struct ListOptions {
  std::string state_dir;
  std::vector<std::string> labels;
  bool json = false;
};

bool has_labels(const TaskRecord& record, const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : labels) {
    auto it = record.labels.find(k);
    if (it == record.labels.end() || it->second != v) return false;
  }
  return true;
}

int list(const ListOptions& options) {
  auto labels = parse_labels(options.labels);
  auto ledger = open_ledger(options.state_dir);
  auto listing = ledger->list();
  auto orphans = labels.empty() ? find_orphans(*ledger) : std::vector<Orphan>{};
  nlohmann::json tasks = nlohmann::json::array(), orphan_list = nlohmann::json::array();
  for (const auto& record : listing.tasks) {
    if (!has_labels(record, labels)) continue;
    if (options.json)
      tasks.push_back(nlohmann::json::parse(to_json(record, -1)));
    else
      std::cout << task_line(record) << "\n";
  }
  for (const auto& o : orphans) {
    if (options.json)
      orphan_list.push_back(
          {{"kind", to_string(o.resource.resource.kind)}, {"id", o.resource.resource.id}, {"ours", o.ours}});
    else
      std::cout << "orphan " << to_string(o.resource.resource.kind) << " " << o.resource.resource.id
                << " (no record" << (o.ours ? "" : ", not marked as this ledger's") << ")\n";
  }
  for (const auto& c : listing.corrupt) print_error(c);
  if (options.json)
    std::cout << nlohmann::json{{"schema", 1},
                                {"tasks", tasks},
                                {"orphans", orphan_list},
                                {"corrupt", listing.corrupt}}
                     .dump(2)
              << "\n";
  return 0;
}

}  // namespace

Verb add_list_command(CLI::App& app) {
  auto options = std::make_shared<ListOptions>();
  CLI::App* cmd = app.add_subcommand("list", "List every task and every resource not yet verified gone");
  add_state_dir_option(*cmd, options->state_dir);
  cmd->add_option("--label", options->labels, "Only tasks with KEY=VALUE (repeatable)");
  cmd->add_flag("--json", options->json, "Machine-readable output");
  return {cmd, [options] { return list(*options); }};
}

}  // namespace cgspawn::cli
