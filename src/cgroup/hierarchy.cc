// SPDX-License-Identifier: MIT
#include "cgroup/hierarchy.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <string_view>
#include <vector>

#include "util/file_io.hpp"
#include "util/text_items.hpp"

namespace cgspawn {
namespace {

// Views into the text of mountinfo, which outlives them (parse_hierarchy).
struct Mount {
  std::string_view point;
  std::string_view fstype;
  std::string_view super_options;  // comma-separated
};

// mountinfo: "id parent major:minor root point options [optional...] - fstype source super".
// Views, not a stream: every cgspawn process parses it once (about 0.1 ms of `run` before).
Mount parse_mount_line(std::string_view line) {
  Mount m;
  for (int field = 0; field < 4 && !line.empty(); ++field) take_item(line, ' ');
  m.point = take_item(line, ' ');
  take_item(line, ' ');  // the mount's options
  while (!line.empty() && take_item(line, ' ') != "-") {
  }
  m.fstype = take_item(line, ' ');
  take_item(line, ' ');  // the source
  m.super_options = take_item(line, ' ');
  return m;
}

const std::vector<std::string>& v1_controller_names() {
  static const std::vector<std::string> names = {"cpu",     "cpuacct", "cpuset", "memory",     "devices",
                                                 "freezer", "net_cls", "blkio",  "perf_event", "net_prio",
                                                 "hugetlb", "pids",    "rdma",   "misc"};
  return names;
}

void note_v1_controllers(const Mount& m, Hierarchy& h) {
  for (std::string_view options = m.super_options; !options.empty();) {
    std::string_view option = take_item(options, ',');
    for (const auto& name : v1_controller_names())
      if (option == name) h.v1_controllers.emplace(name, m.point);
  }
}

std::string own_cgroup_from(std::string_view self_cgroup) {
  while (!self_cgroup.empty())
    if (std::string_view line = take_item(self_cgroup, '\n'); line.substr(0, 3) == "0::")
      return std::string(line.substr(3));
  return "";
}

// The mounts as parsed from mountinfo, kept per mount namespace: reading and parsing it was
// 0.15 ms, and one `cgspawn run` needed it three times (bench [2]). Mounts of cgroup
// hierarchies do not change under a running cgspawn; a process that enters another mount
// namespace (a test's private one) reads that one's.
Hierarchy mounts_of_this_namespace() {
  static std::mutex mutex;
  static ino_t cached_ns = 0;
  static Hierarchy cached;
  struct stat ns {};
  bool known = ::stat("/proc/self/ns/mnt", &ns) == 0;
  std::lock_guard lock(mutex);
  if (known && ns.st_ino == cached_ns) return cached;
  Hierarchy mounts = parse_hierarchy(read_file("/proc/self/mountinfo").value_or(""), "");
  if (known) {
    cached_ns = ns.st_ino;
    cached = mounts;
  }
  return mounts;
}

}  // namespace

Hierarchy parse_hierarchy(const std::string& mountinfo, const std::string& self_cgroup) {
  Hierarchy h;
  std::string_view fallback;
  for (std::string_view rest = mountinfo; !rest.empty();) {
    Mount m = parse_mount_line(take_item(rest, '\n'));
    if (m.fstype == "cgroup") note_v1_controllers(m, h);
    if (m.fstype != "cgroup2") continue;
    if (m.point == "/sys/fs/cgroup" || m.point == "/sys/fs/cgroup/unified")
      h.mount = m.point;
    else if (fallback.empty())
      fallback = m.point;
  }
  if (h.mount.empty()) h.mount = fallback;
  if (h.mount.empty())
    h.layout = CgroupLayout::none;
  else
    h.layout = h.v1_controllers.empty() ? CgroupLayout::unified : CgroupLayout::hybrid;
  h.own_cgroup = own_cgroup_from(self_cgroup);
  return h;
}

Hierarchy discover_mounts() {
  return mounts_of_this_namespace();
}

Hierarchy discover_hierarchy() {
  Hierarchy h = mounts_of_this_namespace();
  h.own_cgroup = own_cgroup_from(read_file("/proc/self/cgroup").value_or(""));
  return h;
}

}  // namespace cgspawn
