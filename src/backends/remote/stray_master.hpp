// An `ssh -M -f` that could not take its control socket runs on without multiplexing: nobody
// can reach it through the socket, so it is found by its own command line and stopped.
#pragma once

#include <string>
#include <vector>

namespace cgspawn::remote {

// This user's ssh processes started as the master for control_path; SIGTERM sent to each.
// Returns their pids.
std::vector<int> stop_stray_masters(const std::string& control_path);

}  // namespace cgspawn::remote
