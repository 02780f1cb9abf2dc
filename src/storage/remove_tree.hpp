// SPDX-License-Identifier: MIT
// Removing a directory tree the way a scratch directory must go: every name is opened relative
// to its parent's descriptor and never followed when it is a symlink (a link to / removes the
// link, nothing of /); a directory without write or search permission is opened up (fchmod)
// before its content goes; a mount point is never entered and never removed, so the tree above
// it stays, and the mount is named.
#pragma once

#include <string>
#include <vector>

namespace cgspawn {

struct TreeRemoval {
  bool existed = false;             // the top directory was there to remove
  bool gone = false;                // the top directory no longer exists
  std::vector<std::string> mounts;  // mount points found inside (kept, with the tree above them)
  std::string error;                // the first error that kept something, with its path
};

TreeRemoval remove_tree(const std::string& path);

}  // namespace cgspawn
