// SPDX-License-Identifier: MIT
// Destroying a remote task's resources from its ledger record, when its owner is gone (reap,
// destroy by id): everything needed to reconnect is in the record's attributes.
#include <optional>

#include "backends/backend_rows.hpp"
#include "backends/remote/remote_kill.hpp"
#include "backends/remote/remote_scratch.hpp"
#include "backends/remote/ssh_master.hpp"
#include "report/rows.hpp"

namespace cgspawn {
namespace {

std::optional<Duration> recorded_lease(const ResourceRecord& res) {
  long long s = std::atoll(res.attribute("lease_s").c_str());
  if (s <= 0) return std::nullopt;
  return std::chrono::seconds(s);
}

}  // namespace

ResourceOutcome destroy_recorded_remote_cgroup(const ResourceRecord& res, const DestroyOptions& options) {
  try {
    remote::RemoteCgroupRef ref;
    ref.target = remote::parse_target(res.attribute("host"), res.attribute("ssh_config"));
    ref.control_path = res.attribute("control_path");
    ref.name = res.attribute("name");
    ref.cgroup = res.attribute("cgroup");
    ref.unit = res.attribute("unit");
    std::string cgroup = ref.cgroup.empty() ? "cgspawn-remote/" + ref.name : ref.cgroup;
    ref.if_unreachable = recorded_lease(res)
                             ? "the remote agent kills cgroup " + cgroup +
                                   " by itself once its controlling connection is gone or has been "
                                   "silent for the lease (" +
                                   res.attribute("lease_s") + "s), unless the agent itself died"
                             : remote::lease_promise(cgroup, std::nullopt, "");
    ResourceOutcome row = remote::kill_remote_cgroup(ref, options);
    if (res.state == ResourceState::intended && row.outcome == Outcome::already_gone)
      row.detail = "never created: " + row.detail;
    return row;
  } catch (const std::exception& e) {
    return make_row(res.resource, Outcome::failed, std::string("unusable record: ") + e.what());
  }
}

ResourceOutcome destroy_recorded_remote_directory(const ResourceRecord& res, const DestroyOptions&) {
  return remote::remove_remote_scratch(res);
}

ResourceOutcome destroy_recorded_ssh_master(const ResourceRecord& res, const DestroyOptions&) {
  try {
    auto target = remote::parse_target(res.attribute("host"), res.attribute("ssh_config"));
    return remote::close_master(target, res.resource.id, {res.attribute("ledger"), ""});
  } catch (const std::exception& e) {
    return make_row(res.resource, Outcome::failed, std::string("unusable record: ") + e.what());
  }
}

}  // namespace cgspawn
