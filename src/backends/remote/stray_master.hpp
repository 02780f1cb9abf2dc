// SPDX-License-Identifier: MIT
// An `ssh -M -f` that could not take its control socket runs on without multiplexing: nobody
// can reach it through the socket, so it is found by its own command line and stopped.
#pragma once

#include <string>
#include <vector>

namespace cgspawn::remote {

struct StoppedMaster {
  int pid = 0;
  bool gone = false;  // exited within 2 s of SIGTERM
};

// This user's ssh processes started as the master for control_path: SIGTERM sent to each,
// then up to 2 s for them to exit. Also for a master whose socket file was removed under it
// (a tmp cleaner, a removed ledger): it would linger for its ControlPersist otherwise.
std::vector<StoppedMaster> stop_stray_masters(const std::string& control_path);

}  // namespace cgspawn::remote
