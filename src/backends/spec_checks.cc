// SPDX-License-Identifier: MIT
#include "backends/spec_checks.hpp"

#include <cstdlib>

#include "cgspawn/error.hpp"
#include "cgspawn/parse.hpp"
#include "storage/scratch.hpp"

namespace cgspawn {

void validate_spec(const TaskSpec& spec) {
  if (spec.argv.empty()) throw Error(ErrorKind::invalid_argument, "no program given");
  if (!valid_task_id(spec.id))
    throw Error(ErrorKind::invalid_argument,
                "invalid task id \"" + spec.id + "\": use [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  for (const auto& assignment : spec.env)
    if (assignment.find('=') == std::string::npos || assignment[0] == '=')
      throw Error(ErrorKind::invalid_argument,
                  "invalid environment entry \"" + assignment + "\": use NAME=VALUE");
  if (!spec.scratch && spec.keep_scratch)
    throw Error(ErrorKind::invalid_argument, "--keep-scratch: needs --scratch");
  if (!spec.scratch && !spec.scratch_root.empty())
    throw Error(ErrorKind::invalid_argument, "--scratch-root: needs --scratch");
}

TaskSpec prepared_spec(const TaskSpec& input) {
  TaskSpec spec = input;
  if (spec.id.empty()) spec.id = make_task_id();
  validate_spec(spec);
  if (spec.scratch) add_scratch_env(spec, scratch_path(spec));
  return spec;
}

std::string task_path(const TaskSpec& spec) {
  for (auto it = spec.env.rbegin(); it != spec.env.rend(); ++it)
    if (it->rfind("PATH=", 0) == 0) return it->substr(5);
  const char* path = spec.inherit_env ? std::getenv("PATH") : nullptr;
  return path ? path : "";
}

}  // namespace cgspawn
