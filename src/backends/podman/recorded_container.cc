// SPDX-License-Identifier: MIT
// Destroying a container and its conmon known only from the ledger (their owner is gone):
// the same destroy-and-verify path as PodmanBoundary::destroy, from the recorded attributes.
#include <unistd.h>

#include "backends/backend_rows.hpp"
#include "backends/podman/container_verify.hpp"
#include "cgroup/cgroup.hpp"

namespace cgspawn {

ResourceOutcome destroy_recorded_container(const ResourceRecord& res, const DestroyOptions& options) {
  ContainerRef ref = ContainerRef::from_attributes(res.attributes);
  if (ref.name.empty()) ref.name = res.resource.id;
  // Even an "intended" container is looked for: the crash may have come after podman made it.
  return destroy_container(ref, options).container;
}

ResourceOutcome destroy_recorded_conmon(const ResourceRecord& res, const DestroyOptions& options) {
  int pid = 0;
  unsigned long long start = 0;
  try {
    pid = std::stoi(res.attributes.at("pid"));
    start = std::stoull(res.attributes.at("start_time"));
  } catch (const std::exception&) {
    pid = 0;  // never recorded: conmon was never started
  }
  bool empty = true;
  if (auto it = res.attributes.find("task_cgroup");
      it != res.attributes.end() && ::access(it->second.c_str(), F_OK) == 0) {
    try {
      empty = !Cgroup::open(it->second).populated();
    } catch (const std::exception&) {
    }
  }
  return finish_conmon(pid, start, options, empty);
}

}  // namespace cgspawn
