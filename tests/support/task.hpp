// SPDX-License-Identifier: MIT
// Shorthands for driving the library in host tests.
#pragma once

#include <string>
#include <vector>

#include "cgspawn/cgspawn.hpp"
#include "host.hpp"

namespace cgtest {

// /bin/sh -c SCRIPT sh ARGS... ($1, $2, ... in the script), as task `id`.
cgspawn::TaskSpec shell(const std::string& id, const std::string& script, std::vector<std::string> args = {});

// A process spawner whose task cgroups go below the test's parent.
std::unique_ptr<cgspawn::Spawner> spawner_under(const TestParent& parent);

cgspawn::DestroyOptions destroy_options(std::chrono::milliseconds grace,
                                        std::chrono::milliseconds verify_timeout = 10s);

bool killed_has(const cgspawn::ResourceOutcome& row, pid_t pid);
bool survivors_have(const cgspawn::ResourceOutcome& row, pid_t pid);

// Every process of the result's cgroup row that destroy had to kill, by pid.
std::vector<pid_t> killed_pids(const cgspawn::ResourceOutcome& row);

}  // namespace cgtest
