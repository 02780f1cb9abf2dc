// SPDX-License-Identifier: MIT
#include "cgroup/hierarchy.hpp"

#include <sys/stat.h>

#include <mutex>
#include <sstream>
#include <vector>

#include "util/file_io.hpp"

namespace cgspawn {
namespace {

struct Mount {
  std::string point;
  std::string fstype;
  std::vector<std::string> super_options;
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

// mountinfo: "id parent major:minor root point options [optional...] - fstype source super"
Mount parse_mount_line(const std::string& line) {
  auto fields = split(line, ' ');
  Mount m;
  if (fields.size() > 4) m.point = fields[4];
  for (size_t i = 5; i < fields.size(); ++i) {
    if (fields[i] != "-") continue;
    if (i + 1 < fields.size()) m.fstype = fields[i + 1];
    if (i + 3 < fields.size()) m.super_options = split(fields[i + 3], ',');
    break;
  }
  return m;
}

const std::vector<std::string>& v1_controller_names() {
  static const std::vector<std::string> names = {"cpu",     "cpuacct", "cpuset", "memory",     "devices",
                                                 "freezer", "net_cls", "blkio",  "perf_event", "net_prio",
                                                 "hugetlb", "pids",    "rdma",   "misc"};
  return names;
}

void note_v1_controllers(const Mount& m, Hierarchy& h) {
  for (const auto& option : m.super_options)
    for (const auto& name : v1_controller_names())
      if (option == name) h.v1_controllers.emplace(name, m.point);
}

std::string own_cgroup_from(const std::string& self_cgroup) {
  for (const auto& line : split(self_cgroup, '\n'))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
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
  std::string fallback;
  for (const auto& line : split(mountinfo, '\n')) {
    Mount m = parse_mount_line(line);
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

Hierarchy discover_hierarchy() {
  Hierarchy h = mounts_of_this_namespace();
  h.own_cgroup = own_cgroup_from(read_file("/proc/self/cgroup").value_or(""));
  return h;
}

}  // namespace cgspawn
