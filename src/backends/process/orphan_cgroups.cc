// SPDX-License-Identifier: MIT
// Task cgroups that no record names: the process backend's column of orphan discovery. A
// record can be lost (a crash before its first write, a removed state directory); the cgroup
// tree under the ledger's parents is then the second source of truth.
#include <sys/xattr.h>

#include <filesystem>

#include "backends/backend_rows.hpp"
#include "backends/orphans.hpp"
#include "cgspawn/process_spawner.hpp"
#include "task/names.hpp"

namespace cgspawn {
namespace {

std::string ledger_mark(const std::string& path) {
  char buf[4096];
  ssize_t n = ::getxattr(path.c_str(), kLedgerXattr, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

}  // namespace

std::vector<Orphan> find_orphan_cgroups(const Ledger& ledger) {
  std::vector<std::string> parents = ledger.parents();
  if (std::string d = default_parent(); !d.empty()) parents.push_back(d);
  std::vector<Orphan> orphans;
  std::error_code ec;
  for (const auto& parent : parents) {
    for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
      std::string name = entry.path().filename().string();
      if (!entry.is_directory(ec) || name.rfind(kTaskPrefix, 0) != 0) continue;
      if (has_record(ledger, name.substr(std::string(kTaskPrefix).size()))) continue;
      std::string path = entry.path().string();
      std::string mark = ledger_mark(path);
      if (!mark.empty() && mark != ledger.dir()) continue;  // another ledger's task
      bool duplicate = false;
      for (const auto& o : orphans) duplicate = duplicate || o.resource.resource.id == path;
      if (!duplicate)
        orphans.push_back({{{ResourceKind::cgroup, path}, ResourceState::created, {}}, mark == ledger.dir()});
    }
  }
  return orphans;
}

}  // namespace cgspawn
