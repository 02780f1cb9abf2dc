// SPDX-License-Identifier: MIT
#include "storage/suspected_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <string_view>

namespace cgspawn {
namespace {

double seconds(const statx_timestamp& t) {
  return static_cast<double>(t.tv_sec) + t.tv_nsec / 1e9;
}

double made_at(const struct statx& st) {
  return seconds((st.stx_mask & STATX_BTIME) ? st.stx_btime : st.stx_ctime);
}

// How far before the task's start (read from the clock) a time the filesystem wrote for
// something made after it can lie. The kernel stamps files from a clock that moves once per
// tick (1 to 10 ms), so 20 ms; a filesystem that keeps whole seconds (its times have no
// nanoseconds) a second. The slack was a second everywhere: a /tmp changed in the second
// before any task's start cost a statx of each of its entries at the task's end.
double slack_of(const statx_timestamp& dir_mtime) {
  return dir_mtime.tv_nsec == 0 ? 1.0 : 0.02;
}

// The entries made since then, found by a scan of `dir`, unless nothing was added to it
// since: its mtime moves with every entry made or renamed into it, and its filesystem keeps
// birth times, so no entry's could be later. (Without birth times an entry's status change
// counts as its making, which the directory's mtime does not follow.)
void scan(const char* place, double since_unix, uid_t uid, std::size_t cap, SuspectedFiles& out) {
  DIR* d = ::opendir(place);
  if (!d) return;
  struct statx dir {};
  double slack = 1.0;
  if (::statx(::dirfd(d), "", AT_EMPTY_PATH, STATX_MTIME | STATX_BTIME, &dir) == 0 &&
      (dir.stx_mask & STATX_MTIME)) {
    slack = slack_of(dir.stx_mtime);
    if ((dir.stx_mask & STATX_BTIME) && seconds(dir.stx_mtime) < since_unix - slack) {
      ::closedir(d);
      return;
    }
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    struct statx st {};
    if (::statx(::dirfd(d), e->d_name, AT_SYMLINK_NOFOLLOW, STATX_UID | STATX_BTIME | STATX_CTIME, &st) != 0)
      continue;
    if (st.stx_uid != uid || made_at(st) < since_unix - slack) continue;
    if (out.paths.size() < cap) out.paths.push_back(std::string(place) + "/" + e->d_name);
    ++out.total;
  }
  ::closedir(d);
}

}  // namespace

SuspectedFiles suspected_files(double since_unix, uid_t uid, std::size_t cap) {
  SuspectedFiles out;
  for (const char* place : kSharedPlaces) scan(place, since_unix, uid, cap, out);
  return out;
}

}  // namespace cgspawn
