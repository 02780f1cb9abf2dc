// SPDX-License-Identifier: MIT
#include "ledger_options.hpp"

#include "task_options.hpp"

namespace cgspawn::cli {

void add_state_dir_option(CLI::App& app, std::string& state_dir) {
  app.add_option("--state-dir", state_dir,
                 "Ledger directory (default /run/cgspawn as root, $XDG_RUNTIME_DIR/cgspawn otherwise)")
      ->check(non_empty());
}

std::shared_ptr<const Ledger> open_ledger(const std::string& state_dir) {
  return std::make_shared<const Ledger>(state_dir.empty() ? Ledger::default_dir() : state_dir);
}

std::map<std::string, std::string> parse_labels(const std::vector<std::string>& labels) {
  std::map<std::string, std::string> out;
  for (const auto& l : labels) {
    auto eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      throw CLI::ValidationError("--label", "invalid value \"" + l + "\" (expected KEY=VALUE)");
    out[l.substr(0, eq)] = l.substr(eq + 1);
  }
  return out;
}

}  // namespace cgspawn::cli
