// SPDX-License-Identifier: MIT
// One local ssh process: started with clean signal state in a process group of its own, held
// by a pidfd, waited for with deadlines, killed by pid (never by name).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::remote {

class SshProcess {
 public:
  SshProcess() = default;
  // stdio: -1 means /dev/null. Throws cgspawn::Error when ssh cannot be started.
  SshProcess(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd);
  // A moved-from SshProcess owns nothing (its destructor must not wait for the process).
  SshProcess(SshProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        pidfd_(std::move(other.pidfd_)),
        status_(std::exchange(other.status_, std::nullopt)) {}
  SshProcess& operator=(SshProcess&& other) noexcept {
    if (this != &other) {
      kill();
      pid_ = std::exchange(other.pid_, -1);
      pidfd_ = std::move(other.pidfd_);
      status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
  }
  ~SshProcess();  // kills and reaps it if still running

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  bool running() const { return pid_ > 0 && !status_; }

  // The wait status once it has exited by `deadline`, else nullopt.
  std::optional<int> wait(Clock::time_point deadline);
  // SIGKILL and reap (a no-op once reaped).
  void kill();

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::optional<int> status_;
};

struct SshOutput {
  std::optional<int> status;  // the wait status; nullopt: killed at the deadline
  std::string out, err;
  double seconds = 0;
};

// Runs ssh to its end (stdin /dev/null), killing it at `deadline`.
SshOutput run_ssh(const std::vector<std::string>& argv, Clock::time_point deadline);

// ssh's stderr made fit for one line of a report.
std::string one_line(const std::string& text);

}  // namespace cgspawn::remote
