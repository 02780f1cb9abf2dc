// SPDX-License-Identifier: MIT
// The task directories of a ledger: one readdir, no stat where the filesystem gives the type.
#pragma once

#include <string>
#include <vector>

namespace cgspawn {

// The names of the directories in `dir` that are valid task ids; none when it cannot be read.
std::vector<std::string> task_dirs(const std::string& dir);

// A task directory with no record whose reserver is gone (or that has no reserver for a
// minute): a start that died before it recorded anything, and made nothing else either.
bool abandoned_reservation(const std::string& task_dir);

}  // namespace cgspawn
