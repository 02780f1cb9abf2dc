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

// No entry was added to `dir` since then: its mtime moves with every entry made or renamed into
// it, and its filesystem keeps birth times, so no entry's could be later. (Without birth times
// an entry's status change counts as its making, which the directory's mtime does not follow.)
// Saves a statx of every entry of a busy /tmp at every task's end.
bool unchanged_since(int dir, double since_unix) {
  struct statx st {};
  if (::statx(dir, "", AT_EMPTY_PATH, STATX_MTIME | STATX_BTIME, &st) != 0) return false;
  return (st.stx_mask & STATX_BTIME) && (st.stx_mask & STATX_MTIME) && seconds(st.stx_mtime) < since_unix - 1;
}

void scan(const char* place, double since_unix, uid_t uid, std::size_t cap, SuspectedFiles& out) {
  DIR* d = ::opendir(place);
  if (!d) return;
  if (unchanged_since(::dirfd(d), since_unix)) {
    ::closedir(d);
    return;
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    struct statx st {};
    if (::statx(::dirfd(d), e->d_name, AT_SYMLINK_NOFOLLOW, STATX_UID | STATX_BTIME | STATX_CTIME, &st) != 0)
      continue;
    // A second of slack (here and above): a time is read at the filesystem's granularity.
    if (st.stx_uid != uid || made_at(st) < since_unix - 1) continue;
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
