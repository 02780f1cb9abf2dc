// SPDX-License-Identifier: MIT
#include "ledger/task_dirs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <memory>

#include "cgspawn/parse.hpp"

namespace cgspawn {

std::vector<std::string> task_dirs(const std::string& dir) {
  std::vector<std::string> ids;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return ids;
  while (const dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (!valid_task_id(name)) continue;  // ".", "..", anything cgspawn did not name
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {  // a filesystem that does not say: ask
      struct stat st;
      is_dir = ::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) ids.push_back(std::move(name));
  }
  return ids;
}

}  // namespace cgspawn
