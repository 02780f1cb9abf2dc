// SPDX-License-Identifier: MIT
// SysV IPC a task leaves behind (shared memory, semaphore sets, message queues): they outlive
// every process unless removed. Attributed by the pids the kernel keeps for each object: a
// segment's creator (cpid), a queue's last sender and receiver (lspid, lrpid), each
// semaphore's last operator (GETPID). The kernel keeps no creator for a semaphore set or a
// queue: one the task made and never used is only suspected (its uid, made during its life).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn {

struct IpcCleanup {
  std::vector<ResourceOutcome> rows;   // kind ipc, id "shm 32769" (the id ipcs shows)
  std::vector<std::string> suspected;  // informational
};

// `ever`: every process the task had; `since_unix`: when it started (objects older than that
// are never its own); `uid`: its user. `remove`: remove and verify; otherwise keep and report.
IpcCleanup destroy_sysv_ipc(const std::vector<pid_t>& ever, double since_unix, uid_t uid, bool remove);

// `reap`'s way, from the record (which keeps only the id): gone, or a segment the destroy
// marked for removal that a process outside the task still has attached (not-guaranteed until
// it detaches). Nothing is removed here: an id the kernel has given to a new object is not the
// task's, and the record cannot tell the two apart.
ResourceOutcome destroy_recorded_ipc(const ResourceRecord& resource, const DestroyOptions& options);

}  // namespace cgspawn
