// SPDX-License-Identifier: MIT
// Destroying a task cgroup known only from its ledger record (its owner is gone).
#include <unistd.h>

#include <filesystem>

#include "backends/backend_rows.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/destroy.hpp"
#include "cgroup/hierarchy.hpp"
#include "cgroup/parent.hpp"
#include "cgspawn/error.hpp"
#include "report/rows.hpp"

namespace cgspawn {
namespace {

// Its parents that cgspawn made, and its own default parent, go when empty.
void remove_own_parent(const std::string& cgroup_path) {
  Hierarchy h = discover_mounts();
  std::filesystem::path parent = std::filesystem::path(cgroup_path).parent_path();
  prune_parents(parent.string(), {h.mount, parent.filename() == "cgspawn" ? parent.string() : ""});
}

}  // namespace

ResourceOutcome destroy_recorded_cgroup(const ResourceRecord& res, const DestroyOptions& options) {
  const std::string& path = res.resource.id;
  if (::access(path.c_str(), F_OK) != 0) {
    remove_own_parent(path);
    return make_row(res.resource, Outcome::already_gone,
                    res.state == ResourceState::intended ? "never created" : "removed before cgspawn acted");
  }
  try {
    ResourceOutcome row = destroy_cgroup(Cgroup::open(path), options).row;
    if (row.outcome == Outcome::destroyed) remove_own_parent(path);
    return row;
  } catch (const Error& e) {
    return make_row(res.resource, Outcome::failed, e.what());
  }
}

}  // namespace cgspawn
