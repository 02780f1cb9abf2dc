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

template <typename T>
bool has_labels(const T& task, const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : labels) {
    auto it = task.labels.find(k);
    if (it == task.labels.end() || it->second != v) return false;
  }
  return true;
}

// Whether each owner lives, checked once per owner.
class OwnerChecks {
 public:
  bool alive(const OwnerRef& owner) {
    auto [it, added] = known_.try_emplace({owner.pid, owner.start_time}, false);
    if (added) it->second = owner_alive(owner);
    return it->second;
  }

 private:
  std::map<std::pair<int, unsigned long long>, bool> known_;
};

// The text listing reads the ledger's index (Ledger::for_each_summary): one file, not every record.
std::vector<std::string> print_lines(const Ledger& ledger, const std::map<std::string, std::string>& labels) {
  OwnerChecks owners;
  std::string out;
  auto corrupt = ledger.for_each_summary([&](const TaskSummary& task) {
    if (!has_labels(task, labels)) return;
    (out += task_line(task, owners.alive(task.owner))) += '\n';
    if (out.size() > 65536) std::cout << out, out.clear();  // the memory of 64 KiB, not of the whole text
  });
  std::cout << out;
  return corrupt;
}

// The JSON listing has each whole record.
std::vector<std::string> add_records(const Ledger& ledger, const std::map<std::string, std::string>& labels,
                                     nlohmann::json& tasks) {
  auto listing = ledger.list();
  for (const auto& record : listing.tasks)
    if (has_labels(record, labels)) tasks.push_back(nlohmann::json::parse(to_json(record, -1)));
  return listing.corrupt;
}

int list(const ListOptions& options) {
  auto labels = parse_labels(options.labels);
  auto ledger = open_ledger(options.state_dir);
  nlohmann::json tasks = nlohmann::json::array(), orphan_list = nlohmann::json::array();
  auto corrupt = options.json ? add_records(*ledger, labels, tasks) : print_lines(*ledger, labels);
  auto orphans = labels.empty() ? find_orphans(*ledger) : std::vector<Orphan>{};
  for (const auto& o : orphans) {
    if (options.json)
      orphan_list.push_back(
          {{"kind", to_string(o.resource.resource.kind)}, {"id", o.resource.resource.id}, {"ours", o.ours}});
    else
      std::cout << "orphan " << to_string(o.resource.resource.kind) << " " << o.resource.resource.id
                << " (no record" << (o.ours ? "" : ", not marked as this ledger's") << ")\n";
  }
  for (const auto& c : corrupt) print_error(c);
  if (options.json)
    std::cout << nlohmann::json{{"schema", 1},
                                {"tasks", tasks},
                                {"orphans", orphan_list},
                                {"corrupt", corrupt}}
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
