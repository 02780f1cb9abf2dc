// The TaskSpec as `cgspawn start` hands it to the supervisor (over a pipe, as JSON).
#pragma once

#include <string>

#include "cgspawn/backends.hpp"
#include "cgspawn/task_spec.hpp"

namespace cgspawn::supervisor {

struct StartRequest {
  TaskSpec spec;
  std::string state_dir;
  BackendOptions backend;   // ledger/owner set by the supervisor
  std::string stdout_path;  // "" = <state dir>/<id>/stdout
  std::string stderr_path;  // "" = <state dir>/<id>/stderr
};

std::string to_json(const StartRequest& request);
StartRequest start_request_from_json(const std::string& text);  // throws on malformed input

}  // namespace cgspawn::supervisor
