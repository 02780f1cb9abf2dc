#include "cmd_backends.hpp"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cgspawn/cgspawn.hpp"

namespace cgspawn::cli {
namespace {

struct BackendsOptions {
  bool json = false;
  std::string parent;
};

std::vector<Capabilities> all_capabilities(const BackendsOptions& options) {
  return {make_process_spawner({options.parent})->capabilities()};
}

int backends(const BackendsOptions& options) {
  auto caps = all_capabilities(options);
  if (!options.json) {
    for (const auto& c : caps) std::cout << describe(c);
    return 0;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : caps) list.push_back(nlohmann::json::parse(to_json(c)));
  std::cout << nlohmann::json{{"schema", 1}, {"backends", list}}.dump(2) << "\n";
  return 0;
}

}  // namespace

Verb add_backends_command(CLI::App& app) {
  auto options = std::make_shared<BackendsOptions>();
  CLI::App* cmd = app.add_subcommand("backends", "Print what each backend can guarantee on this host");
  cmd->add_flag("--json", options->json, "Machine-readable output");
  cmd->add_option("--parent", options->parent, "Parent cgroup the process backend would use");
  return {cmd, [options] { return backends(*options); }};
}

}  // namespace cgspawn::cli
