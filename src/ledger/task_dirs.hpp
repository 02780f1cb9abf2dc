// SPDX-License-Identifier: MIT
// The task directories of a ledger: one readdir, no stat where the filesystem gives the type.
#pragma once

#include <string>
#include <vector>

namespace cgspawn {

// The names of the directories in `dir` that are valid task ids; none when it cannot be read.
std::vector<std::string> task_dirs(const std::string& dir);

}  // namespace cgspawn
