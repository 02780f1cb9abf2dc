// SPDX-License-Identifier: MIT
// What every backend checks of a TaskSpec before it makes anything, and the PATH a program
// is looked up in: one set of rules and one wording of the errors, whatever the backend.
#pragma once

#include <string>

#include "cgspawn/spawner.hpp"

namespace cgspawn {

// A program is given, the id is valid, every --env is NAME=VALUE. Throws invalid_argument.
void validate_spec(const TaskSpec& spec);

// The spec with an id (a fresh one when it has none), validated; with --scratch, the scratch
// directory's path in its environment.
TaskSpec prepared_spec(const TaskSpec& input);

// The task's own PATH: the last PATH= of its env, else (when it inherits) cgspawn's.
std::string task_path(const TaskSpec& spec);

}  // namespace cgspawn
