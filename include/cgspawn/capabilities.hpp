// SPDX-License-Identifier: MIT
// Capabilities: what one backend can guarantee on this host, each "no" with its reason.
#pragma once

#include <string>
#include <vector>

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

struct Capability {
  bool available = false;
  std::string reason;  // why not (or, when available, how)
};

struct Capabilities {
  std::string backend;
  Capability usable;                 // can this backend run tasks here at all?
  Capability kill_all;               // kills every descendant, including ones that left the session
  Capability verify;                 // verifies that nothing is left
  Capability survives_caller_crash;  // the task is still found and cleaned after the caller dies
  Capability lineage;                // finds and kills descendants that left the task's boundary
  Capability memory_max;
  Capability pids_max;
  Capability cpu_max;
  Capability scratch;      // a scratch directory made, removed and verified gone
  Capability private_tmp;  // a /tmp, /var/tmp and /dev/shm of the task's own
  Capability private_ipc;  // an IPC namespace of the task's own
  Capability hang_report;  // what a running task's processes did when destroyed (frozen or not)
  Capability usage;        // which usage fields beyond cpu time this host provides (pressure, ...)

  // Every capability but `usable`: what a backend that is not usable here lacks, each.
  std::vector<Capability*> guarantees() {
    return {&kill_all, &verify,  &survives_caller_crash, &lineage,     &memory_max,  &pids_max,
            &cpu_max,  &scratch, &private_tmp,           &private_ipc, &hang_report, &usage};
  }
};

}  // namespace cgspawn

#pragma GCC visibility pop
