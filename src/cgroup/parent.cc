// SPDX-License-Identifier: MIT
#include "cgroup/parent.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

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

namespace {

constexpr const char* kMadeXattr = "user.cgspawn.made";

bool made_by_cgspawn(const std::string& dir) {
  return ::getxattr(dir.c_str(), kMadeXattr, nullptr, 0) >= 0;
}

}  // namespace

std::vector<std::string> make_parent(const std::string& parent, const std::string& mount) {
  std::vector<std::string> created;
  for (size_t pos = mount.size() + 1; pos <= parent.size(); ++pos) {
    if (pos != parent.size() && parent[pos] != '/') continue;
    std::string dir = parent.substr(0, pos);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      ::setxattr(dir.c_str(), kMadeXattr, "1", 1, 0);  // without it, only this process prunes it
      created.insert(created.begin(), dir);
    } else if (errno != EEXIST) {
      throw_sys("create parent cgroup " + dir, errno);
    }
  }
  return created;
}

std::string parent_unwritable(const std::string& parent, const std::string& mount) {
  std::string d = parent;
  while (d.size() > mount.size() && ::access(d.c_str(), F_OK) != 0) d = d.substr(0, d.rfind('/'));
  struct statvfs fs {};
  if (::statvfs(d.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY))
    return "cgroup2 at " + mount +
           " is mounted read-only here (a container's view of the host's cgroups?): "
           "cgspawn cannot make task cgroups";
  if (::access(d.c_str(), W_OK) != 0)
    return sys_message("cannot write to " + d, errno) + ": cgspawn cannot make task cgroups there" +
           (::geteuid() == 0 ? "" : " (a user needs a delegated subtree of its own)");
  return "";
}

void prune_parents(const std::string& dir, const ParentPruning& rule) {
  std::string d = dir;
  while (d.size() > rule.mount.size() + 1 && d.rfind(rule.mount + "/", 0) == 0) {
    if (d != rule.own_default && !made_by_cgspawn(d)) return;
    // EBUSY/ENOTEMPTY: another task still lives below it, and its end will try again.
    if (::rmdir(d.c_str()) != 0 && errno != ENOENT) return;
    d = d.substr(0, d.rfind('/'));
  }
}

}  // namespace cgspawn
