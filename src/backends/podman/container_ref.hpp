// SPDX-License-Identifier: MIT
// What cgspawn knows about one container: enough to destroy and verify it on its own, from its
// PodmanBoundary or from the ledger record after a crash (podman may have forgotten it by then).
#pragma once

#include <map>
#include <string>

namespace cgspawn {

struct ContainerRef {
  std::string task_id;
  std::string name;              // cgspawn-<task id>: known before the container exists
  std::string id;                // podman's full id, once created
  std::string task_cgroup;       // cgspawn's cgroup2 node the container lives under (full path)
  std::string cgroup_parent;     // the same as podman's --cgroup-parent (absolute, below the mount)
  std::string container_cgroup;  // .State.CgroupPath from podman inspect
  int conmon_pid = 0;            // .State.ConmonPid, pinned by its start time
  unsigned long long conmon_start = 0;
  bool keep = false;  // --keep-container: stopped, not removed

  // podman's id once known, else the name.
  const std::string& target() const { return id.empty() ? name : id; }

  // As ResourceRecord::attributes of the container row, and back.
  std::map<std::string, std::string> attributes() const;
  static ContainerRef from_attributes(const std::map<std::string, std::string>& attributes);
};

}  // namespace cgspawn
