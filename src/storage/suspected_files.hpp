// SPDX-License-Identifier: MIT
// Files a task may have left in the host's shared places (/dev/shm, /dev/mqueue, /tmp) when it
// had no private /tmp: cgspawn cannot attribute them with certainty (any process of the same
// user could have made them), so it names them as suspected and never deletes them.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace cgspawn {

struct SuspectedFiles {
  std::vector<std::string> paths;  // at most `cap`
  std::size_t total = 0;
};

// Entries directly in the shared places, owned by `uid`, made (birth time where the filesystem
// keeps one, else the last status change) at or after `since_unix`.
SuspectedFiles suspected_files(double since_unix, uid_t uid, std::size_t cap);

inline constexpr const char* kSharedPlaces[] = {"/dev/shm", "/dev/mqueue", "/tmp"};

}  // namespace cgspawn
