// SPDX-License-Identifier: MIT
// The options that describe a task, shared by every verb that starts one.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cgspawn/backends.hpp"
#include "cgspawn/task_spec.hpp"

namespace cgspawn::cli {

struct TaskOptions {
  std::vector<std::string> command;
  std::vector<std::string> env;
  std::vector<std::string> labels;
  std::string chdir;
  std::string timeout;
  std::string grace = "5s";
  std::string memory_max;
  std::string pids_max;
  std::string cpu_max;
  std::string parent;
  std::string id;
  std::string on_leftovers = "kill";
  bool no_lineage = false;
  bool scratch = false;
  bool keep_scratch = false;
  std::string scratch_root;
  bool private_tmp = false;
  bool private_ipc = false;
  bool no_hang_report = false;
  // Which backend, and its own options.
  std::string backend = "process";
  bool user_manager = false;
  std::string unit_type = "scope";
  std::string image;
  std::string rootfs;
  bool keep_container = false;
  std::string host;
  std::string ssh_config;
  std::string lease = "30s";
};

void add_task_options(CLI::App& app, TaskOptions& options);

// Refuses an empty value ("--timeout ''"): for options where "" would mean "not given".
const CLI::Validator& non_empty();

// Throws CLI::ValidationError naming the option when a value is malformed.
TaskSpec to_task_spec(const TaskOptions& options);

Duration parse_duration_option(const std::string& option, const std::string& value);

// The backend options (the ledger and owner are the verb's to set).
BackendOptions to_backend_options(const TaskOptions& options);

}  // namespace cgspawn::cli
