// SPDX-License-Identifier: MIT
// Running the podman CLI: argv (never a shell string), stdout/stderr captured, a timeout.
// podman is looked up in PATH each time, and uses the environment's own configuration
// (CONTAINERS_CONF and the usual containers.conf files): cgspawn adds no config of its own.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "launch/launcher.hpp"

namespace cgspawn {

struct PodmanOutput {
  int exit_code = -1;  // -1: killed at the timeout (or by a signal)
  std::string out;
  std::string err;
  bool timed_out = false;

  bool ok() const { return exit_code == 0; }
  // podman's own words on one line: the runtime's stderr and podman's "Error: ..." line (its
  // logrus warnings left out), with the exit status.
  std::string error_text() const;
};

// The podman binary from PATH; throws not_found ("podman is not installed or not in PATH").
std::string podman_path();

// podman ARGS... to its end, or killed after `timeout`. Throws only when podman cannot start.
PodmanOutput run_podman(const std::vector<std::string>& args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60));

// podman ARGS... as a long-lived child with the given stdio (-1: inherit), e.g. `logs -f`.
Launched start_podman(const std::vector<std::string>& args, int stdout_fd, int stderr_fd);

}  // namespace cgspawn
