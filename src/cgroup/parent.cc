#include "cgroup/parent.hpp"

#include <unistd.h>

#include <cerrno>

namespace cgspawn {

void remove_empty(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    // EBUSY/ENOTEMPTY: another task still lives below it, and its end will try again.
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return;
  }
}

}  // namespace cgspawn
