#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails if the suite left a cgroup, process or task output of its own behind. Runs after every
# tier; a supervisor or watcher a tier's last test ended may still be finishing its own cleanup
# (pruning the parent it made, removing the task's output): what is still running of the suite
# is waited for (up to 30 s, said when it was) before anything counts as left behind.
u=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$u" ] || { echo "check-leftovers: no cgroup2 mount" >&2; exit 1; }
ours() { pgrep -a -f 'cgspawn-(supervisor|test)|/tools/cgspawn( |$)' 2>/dev/null | grep -v -e pgrep -e check-leftovers; }
waited=0
while [ -n "$(ours)" ] && [ $waited -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
[ $waited -gt 0 ] && echo "check-leftovers: waited $((waited / 10)).$((waited % 10)) s for the suite's processes to end"
procs=$(ours)
left=$(find "$u" -mindepth 1 -maxdepth 3 -type d \( -name 'cgspawn-test*' -o -name 'cgspawn' \) 2>/dev/null)
# A started task's default output (Ledger::output_root) goes with its record.
outputs=$(find /var/tmp/cgspawn/output -mindepth 1 -maxdepth 2 2>/dev/null)
# --scratch directories under the default root, and files a test made in the shared places.
scratch=$(find /var/tmp/cgspawn-scratch -mindepth 1 -maxdepth 1 2>/dev/null)
shared=$(find /dev/shm /tmp -maxdepth 1 -name 'cgspawn-test-s*' 2>/dev/null)
[ -n "$outputs" ] && echo "left behind: task output:" "$outputs"
[ -n "$scratch" ] && echo "left behind: scratch directories:" "$scratch"
[ -n "$shared" ] && echo "left behind: files of the storage tests:" "$shared"
[ -n "$left" ] && echo "left behind: cgroups:" "$left"
[ -n "$procs" ] && echo "left behind: processes: $procs"
[ -z "$left$procs$outputs$scratch$shared" ] && echo "nothing left behind"
[ -z "$left$procs$outputs$scratch$shared" ]
