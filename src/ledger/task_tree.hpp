// SPDX-License-Identifier: MIT
// Removing a task's directory, or its output directory, with everything in it. Each name is
// unlinked relative to its directory's descriptor (no path walk per file, no failed unlink of
// a directory first, no stat per entry where the filesystem gives the type), and a symlink is
// removed, never followed. (storage/remove_tree.hpp, a layer above, is for the task's scratch
// directories, which may hold mount points and closed permissions; a ledger's trees do not.)
#pragma once

#include <string>

namespace cgspawn {

// Another process may be removing the same tree (a task's owner finishing while a destroy of
// it settles): what that one removed first is not an error; what is left is removed. Throws
// Error (system) naming the path when something stays.
void remove_task_tree(const std::string& path);

}  // namespace cgspawn
