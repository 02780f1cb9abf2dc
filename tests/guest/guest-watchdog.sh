#!/bin/bash
# SPDX-License-Identifier: MIT
# guest-watchdog.sh SECONDS CMD [ARGS...] - runs one test of the guest suite, in the guest.
#
# CMD's output is line-buffered, so that what it printed reaches the host (9p, live) even if
# the VM is stopped later. If CMD outlives SECONDS, the watchdog prints what the guest is doing
# (the process tree with each process's wait channel, systemd's jobs and the units in
# transition, the journal's tail), then sends CMD SIGABRT (a doctest binary then names the
# test case it was in) and SIGKILL 10 s later. A hang thus fails as a report, before the VM's
# own time limit kills the guest with everything it knew.
# Exit: CMD's status; 124 when the watchdog stopped it.
set -u
limit=$1
shift

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

stdbuf -oL -eL "$@" &
test_pid=$!
sleep "$limit" &
timer_pid=$!
finished=
wait -n -p finished "$test_pid" "$timer_pid"
status=$?
if [ "$finished" = "$test_pid" ]; then
  kill "$timer_pid" 2>/dev/null
  wait "$timer_pid" 2>/dev/null
  exit "$status"
fi
diagnose "$@"
kill -ABRT "$test_pid" 2>/dev/null
for _ in $(seq 100); do kill -0 "$test_pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$test_pid" 2>/dev/null
wait "$test_pid" 2>/dev/null
echo "*** guest-watchdog: stopped after ${limit} s: $*"
exit 124
