// SPDX-License-Identifier: MIT
#include "storage/suspected_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <string_view>

namespace cgspawn {
namespace {

double made_at(const struct statx& st) {
  const statx_timestamp& t = (st.stx_mask & STATX_BTIME) ? st.stx_btime : st.stx_ctime;
  return static_cast<double>(t.tv_sec) + t.tv_nsec / 1e9;
}

void scan(const char* place, double since_unix, uid_t uid, std::size_t cap, SuspectedFiles& out) {
  DIR* d = ::opendir(place);
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    struct statx st {};
    if (::statx(::dirfd(d), e->d_name, AT_SYMLINK_NOFOLLOW, STATX_UID | STATX_BTIME | STATX_CTIME, &st) != 0)
      continue;
    // A second of slack: a birth time is read at the filesystem's granularity.
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
