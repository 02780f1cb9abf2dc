// SPDX-License-Identifier: MIT
// Destroying a remote task's resources from its ledger record, when its owner is gone (reap,
// destroy by id): everything needed to reconnect is in the record's attributes.
#include <optional>

#include "backends/backend_rows.hpp"
#include "backends/remote/remote_kill.hpp"
#include "backends/remote/remote_scratch.hpp"
#include "backends/remote/ssh_master.hpp"
#include "cgspawn/error.hpp"
#include "report/rows.hpp"

namespace cgspawn {
namespace {

// The recorded master, answering for this resource's session (a new one where it is gone: its
// owner died with it, or another task's destroy closed it), and held meanwhile
// (master_users.hpp), so that a concurrent destroy of another task on it (reap, destroy
// --label) keeps it until this session is done. Closed after unless others hold it: one
// started here for a record whose ssh-master row was already done would be left behind
// otherwise.
class MasterUse {
 public:
  MasterUse(remote::SshTarget target, std::string control_path, std::string ledger)
      : target_(std::move(target)), control_path_(std::move(control_path)), ledger_(std::move(ledger)) {
    remote::ensure_master(target_, control_path_, hold_);
  }
  ~MasterUse() {
    hold_.release();
    try {
      remote::close_master(target_, control_path_, {ledger_, ""});
    } catch (const std::exception&) {
      // the task's own ssh-master row, or the next reap, reports it
    }
  }
  MasterUse(const MasterUse&) = delete;
  MasterUse& operator=(const MasterUse&) = delete;

 private:
  remote::SshTarget target_;
  std::string control_path_, ledger_;
  remote::MasterHold hold_;  // master_users.hpp
};

// Takes the recorded master into `use` (nothing without one); "" or why it cannot be reached.
std::string take_master(std::optional<MasterUse>& use, const ResourceRecord& res) {
  std::string control_path = res.attribute("control_path");
  if (control_path.empty()) return "";
  auto target = remote::parse_target(res.attribute("host"), res.attribute("ssh_config"));  // bad: thrown
  try {
    use.emplace(target, control_path, res.attribute("ledger"));
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

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
    std::optional<MasterUse> master;
    if (std::string why = take_master(master, res); !why.empty()) return remote::unreachable_row(ref, why);
    ResourceOutcome row = remote::kill_remote_cgroup(ref, options);
    if (res.state == ResourceState::intended && row.outcome == Outcome::already_gone)
      row.detail = "never created: " + row.detail;
    return row;
  } catch (const std::exception& e) {
    return make_row(res.resource, Outcome::failed, std::string("unusable record: ") + e.what());
  }
}

ResourceOutcome destroy_recorded_remote_directory(const ResourceRecord& res, const DestroyOptions&) {
  std::optional<MasterUse> master;
  if (res.attribute("keep") != "yes") {
    try {
      if (std::string why = take_master(master, res); !why.empty())
        return make_row(res.resource, Outcome::not_guaranteed,
                        "cannot reach " + res.attribute("host") + ": " + why +
                            "; the record stays: `cgspawn reap` reconnects and removes it");
    } catch (const std::exception& e) {
      return make_row(res.resource, Outcome::failed, std::string("unusable record: ") + e.what());
    }
  }
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
