// SPDX-License-Identifier: MIT
#include "signals.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgspawn/error.hpp"

namespace cgspawn::cli {
namespace {

[[noreturn]] void fail(const char* call) {
  throw Error(ErrorKind::system, std::string(call) + ": " + std::strerror(errno));
}

sigset_t termination_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

TerminationSignals::TerminationSignals() {
  sigset_t set = termination_set();
  if (sigprocmask(SIG_BLOCK, &set, &old_mask_) != 0) fail("sigprocmask");
  fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd_ < 0) {
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    fail("signalfd");
  }
}

TerminationSignals::~TerminationSignals() {
  // A second signal that cut the grace short is still pending here; unblocking it would kill
  // cgspawn by that signal after all, instead of the exit status 128+N of the first. Read
  // what is pending first.
  while (take() != 0) {
  }
  ::close(fd_);
  sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

int TerminationSignals::take() const {
  signalfd_siginfo info{};
  if (::read(fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return 0;
  return static_cast<int>(info.ssi_signo);
}

}  // namespace cgspawn::cli
