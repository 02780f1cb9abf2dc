// SPDX-License-Identifier: MIT
#include "cgroup/parent.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "cgspawn/error.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {

void check_parent_path(const std::string& parent, const std::string& mount) {
  if (parent.size() <= mount.size() + 1 || parent.rfind(mount + "/", 0) != 0 ||
      parent.find("/..") != std::string::npos || parent.find("//") != std::string::npos)
    throw Error(ErrorKind::invalid_argument,
                "parent cgroup " + parent + " is not a cgroup below the cgroup2 mount " + mount);
}

std::vector<std::string> make_parent(const std::string& parent, const std::string& mount) {
  std::vector<std::string> created;
  for (size_t pos = mount.size() + 1; pos <= parent.size(); ++pos) {
    if (pos != parent.size() && parent[pos] != '/') continue;
    std::string dir = parent.substr(0, pos);
    if (::mkdir(dir.c_str(), 0755) == 0)
      created.insert(created.begin(), dir);
    else if (errno != EEXIST)
      throw_sys("create parent cgroup " + dir, errno);
  }
  return created;
}

void remove_empty(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    // EBUSY/ENOTEMPTY: another task still lives below it, and its end will try again.
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return;
  }
}

void MadeParents::add(const std::vector<std::string>& dirs) {
  std::lock_guard lock(mutex_);
  for (const auto& dir : dirs)
    if (std::find(dirs_.begin(), dirs_.end(), dir) == dirs_.end()) dirs_.push_back(dir);
  std::sort(dirs_.begin(), dirs_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::vector<std::string> MadeParents::deepest_first() const {
  std::lock_guard lock(mutex_);
  return dirs_;
}

}  // namespace cgspawn
