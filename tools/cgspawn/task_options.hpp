// The options that describe a task, shared by every verb that starts one.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

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
};

void add_task_options(CLI::App& app, TaskOptions& options);

// Refuses an empty value ("--timeout ''"): for options where "" would mean "not given".
const CLI::Validator& non_empty();

// Throws CLI::ValidationError naming the option when a value is malformed.
TaskSpec to_task_spec(const TaskOptions& options);

Duration parse_duration_option(const std::string& option, const std::string& value);

}  // namespace cgspawn::cli
