#include "signals.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "util/sys_error.hpp"

namespace cgspawn::cli {
namespace {

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
  if (sigprocmask(SIG_BLOCK, &set, &old_mask_) != 0) throw_sys("sigprocmask", errno);
  fd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_.valid()) throw_sys("signalfd", errno);
}

TerminationSignals::~TerminationSignals() {
  // A second signal that cut the grace short is still pending here; unblocking it would kill
  // cgspawn by that signal after all, instead of the exit status 128+N of the first. Read
  // what is pending first.
  while (take() != 0) {
  }
  sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

int TerminationSignals::take() const {
  signalfd_siginfo info{};
  if (::read(fd_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return 0;
  return static_cast<int>(info.ssi_signo);
}

}  // namespace cgspawn::cli
