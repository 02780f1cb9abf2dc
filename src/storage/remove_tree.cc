// SPDX-License-Identifier: MIT
#include "storage/remove_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

// A mount point (the root of a mount, a bind mount of the same filesystem included).
bool is_mount_root(int dirfd, const char* name) {
  struct statx st {};
  if (::statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &st) != 0) return false;
  return (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

class Remover {
 public:
  explicit Remover(TreeRemoval& out) : out_(out) {}

  // Empties the directory open at `dir` (its path `path`, for messages). True when it is empty.
  bool empty_dir(int dir, const std::string& path) {
    // Owner write and search on the directory itself: its entries can be unlinked (a no-op for
    // root, who needs no permission; a user's read-only subdirectory needs it).
    struct stat st {};
    if (::fstat(dir, &st) == 0 && (st.st_mode & 0700) != 0700) ::fchmod(dir, (st.st_mode & 07777) | 0700);
    UniqueFd listing(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* d = listing.valid() ? ::fdopendir(listing.get()) : nullptr;
    if (!d) return fail(path, errno);
    listing.release();
    bool empty = true;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      empty = remove_entry(dir, name, path + "/" + name) && empty;
    }
    ::closedir(d);
    return empty;
  }

 private:
  bool remove_entry(int dir, const std::string& name, const std::string& path) {
    if (::unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT) return true;
    if (errno != EISDIR && errno != EPERM) return fail(path, errno);
    if (is_mount_root(dir, name.c_str())) {
      out_.mounts.push_back(path);
      return false;
    }
    UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub.valid()) return fail(path, errno);
    if (!empty_dir(sub.get(), path)) return false;
    if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return true;
    return fail(path, errno);
  }

  bool fail(const std::string& path, int err) {
    if (out_.error.empty()) out_.error = path + ": " + errno_text(err);
    return false;
  }

  TreeRemoval& out_;
};

}  // namespace

TreeRemoval remove_tree(const std::string& path) {
  TreeRemoval out;
  UniqueFd top(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!top.valid()) {
    if (errno == ENOENT)
      out.gone = true;
    else
      out.error = path + ": " + errno_text(errno);
    return out;
  }
  out.existed = true;
  if (is_mount_root(AT_FDCWD, path.c_str())) {
    out.mounts.push_back(path);
    return out;
  }
  Remover remover(out);
  if (remover.empty_dir(top.get(), path) && ::rmdir(path.c_str()) != 0 && errno != ENOENT &&
      out.error.empty())
    out.error = path + ": " + errno_text(errno);
  struct stat st {};
  out.gone = ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
  return out;
}

}  // namespace cgspawn
