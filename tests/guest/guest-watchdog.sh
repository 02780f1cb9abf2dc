#!/bin/bash
# SPDX-License-Identifier: MIT
# guest-watchdog.sh SECONDS CMD [ARGS...] - runs one test of the guest suite, in the guest.
#
# CMD replaces this script (exec), so it runs as it would without the watchdog: in the
# foreground, with its signals' dispositions and environment untouched. A timer beside it
# watches it; if CMD outlives SECONDS, the timer prints what the guest is doing (the process
# tree with each process's wait channel, systemd's jobs and the units in transition, the
# journal's tail), then sends CMD SIGABRT (a doctest binary then names the test case it was
# in) and SIGKILL 10 s later. A hang thus fails as a report, before the VM's own time limit
# stops the guest with everything it knew. (The doctest binaries flush their output at every
# case's start, tests/support/case_log.hpp, so what they printed is on the host already.)
# Exit: CMD's status; a stopped CMD dies of SIGABRT (134) or SIGKILL (137).
set -u
limit=$1
shift
watched=$$

diagnose() {
  echo "*** guest-watchdog: still running after ${limit} s: $*"
  echo "--- processes (kernel threads left out)"
  ps -eo pid,ppid,stat,etimes,wchan:28,args --forest | grep -Ev ' \[[^] ]+\]$'
  echo "--- systemctl list-jobs"
  systemctl list-jobs --no-pager
  echo "--- units in transition (the system manager)"
  systemctl list-units --all --no-pager --plain --state=activating,deactivating,reloading
  echo "--- journal, last 80 lines"
  journalctl -b -n 80 --no-pager
}

# The start time (field 22 of /proc/PID/stat, after the command's parenthesis) survives exec
# and tells CMD from a later process given the same pid.
started() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
still_there() { [ "$(started "$watched")" = "$1" ]; }

timer() {
  local start=$1 waited=0
  shift
  while [ "$waited" -lt "$limit" ]; do
    sleep 1
    waited=$((waited + 1))
    still_there "$start" || return 0
  done
  diagnose "$@"
  kill -ABRT "$watched" 2>/dev/null
  for _ in $(seq 100); do still_there "$start" || break; sleep 0.1; done
  still_there "$start" && kill -KILL "$watched" 2>/dev/null
  echo "*** guest-watchdog: stopped after ${limit} s: $*"
}

# Started from a subshell that ends at once: the timer is nobody's child that CMD could reap
# or be told of (SIGCHLD).
(timer "$(started "$watched")" "$@" &)
exec "$@"
