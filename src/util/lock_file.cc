// SPDX-License-Identifier: MIT
#include "util/lock_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>

#include "util/sys_error.hpp"

namespace cgspawn {

UniqueFd try_lock_file(const std::string& path) {
  for (;;) {
    UniqueFd lock(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock.valid()) throw_sys("open " + path, errno);
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) return UniqueFd();
      throw_sys("flock " + path, errno);
    }
    struct stat held {
    }, named{};
    if (::fstat(lock.get(), &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev)
      return lock;
  }
}

}  // namespace cgspawn
