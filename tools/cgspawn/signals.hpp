// SPDX-License-Identifier: MIT
// The CLI's own signals: SIGINT, SIGTERM and SIGHUP are blocked and read from a signalfd, so
// the event loop sees them as data (the task's child resets its signal mask before exec).
#pragma once

#include <signal.h>

namespace cgspawn::cli {

class TerminationSignals {
 public:
  TerminationSignals();   // blocks them and opens the signalfd
  ~TerminationSignals();  // restores the old mask
  int fd() const { return fd_; }
  // The next pending signal's number, or 0 if none is pending.
  int take() const;

 private:
  int fd_ = -1;
  sigset_t old_mask_;
};

}  // namespace cgspawn::cli
