// SPDX-License-Identifier: MIT
#include "cmd_backends.hpp"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cgspawn/cgspawn.hpp"
#include "ledger_options.hpp"

namespace cgspawn::cli {
namespace {

struct BackendsOptions {
  bool json = false;
  std::string parent;
  std::string state_dir;
  std::string host;
  std::string ssh_config;
  bool user_manager = false;
};

// As `run` and `start` use them: with the ledger, when there is one.
std::vector<Capabilities> all_capabilities(const BackendsOptions& options) {
  std::shared_ptr<const Ledger> ledger;
  try {
    ledger = open_ledger(options.state_dir);
  } catch (const Error&) {
    // no usable state directory: the capabilities then say what is lost without one
  }
  std::vector<Capabilities> out;
  for (const auto& name : backend_names()) {
    BackendOptions backend;
    backend.backend = name;
    backend.ledger = ledger;
    backend.parent = options.parent;
    backend.host = options.host;
    backend.ssh_config = options.ssh_config;
    backend.user_manager = options.user_manager;
    out.push_back(backend_capabilities(backend));
  }
  return out;
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
  add_state_dir_option(*cmd, options->state_dir);
  cmd->add_option("--host", options->host, "remote: the host to ask about");
  cmd->add_option("--ssh-config", options->ssh_config, "remote: ssh client configuration file");
  cmd->add_flag("--user", options->user_manager, "systemd: the calling user's manager");
  return {cmd, [options] { return backends(*options); }};
}

}  // namespace cgspawn::cli
