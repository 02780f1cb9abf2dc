// SPDX-License-Identifier: MIT
#include "ledger/task_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "cgspawn/error.hpp"
#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

int empty_dir(int dir);

// One entry of `dir`: 0 once it is gone (ENOENT: another remover got there first), else errno.
int remove_entry(int dir, const char* name, unsigned char type) {
  if (type != DT_DIR) {
    if (::unlinkat(dir, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno != EISDIR) return errno;  // DT_UNKNOWN: the filesystem did not say it was one
  }
  UniqueFd sub(::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub.valid()) return errno == ENOENT ? 0 : errno;
  if (int err = empty_dir(sub.get())) return err;
  return ::unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : errno;
}

// Every entry of the directory open at `dir`; the first errno that kept one, else 0. Read with
// getdents64 on that descriptor: no second open of it and no DIR stream (five system calls a
// directory, two directories a task, a thousand tasks in a `reap`).
int empty_dir(int dir) {
  alignas(dirent64) char buf[4096];
  int first = 0;
  for (;;) {
    ssize_t n = ::getdents64(dir, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno == ENOENT)) return first;  // ENOENT: removed by another remover
    if (n < 0) return errno;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf + at);
      at += e->d_reclen;
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      if (int err = remove_entry(dir, e->d_name, e->d_type); err && !first) first = err;
    }
  }
}

}  // namespace

void remove_task_tree(const std::string& path) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    UniqueFd top(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!top.valid()) {
      if (errno == ENOENT) return;
      if (errno == ENOTDIR || errno == ELOOP) {  // a file or a symlink where the tree was
        if (::unlink(path.c_str()) == 0 || errno == ENOENT) return;
      }
      throw_sys("remove " + path, errno);
    }
    if (int err = empty_dir(top.get())) throw_sys("remove " + path, err);
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
    if (errno != ENOTEMPTY) throw_sys("remove " + path, errno);
  }
  throw Error(ErrorKind::system, "remove " + path + ": its contents kept changing under it");
}

}  // namespace cgspawn
