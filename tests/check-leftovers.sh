#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails if the suite left a cgroup or process of its own behind.
u=/sys/fs/cgroup/unified; [ -d "$u" ] || u=/sys/fs/cgroup
left=$(find "$u" -mindepth 1 -maxdepth 3 -type d \( -name 'cgspawn-test*' -o -name 'cgspawn' \) 2>/dev/null)
procs=$(pgrep -a -f 'cgspawn-(supervisor|test)' 2>/dev/null | grep -v -e pgrep -e check-leftovers || true)
# A started task's default output (Ledger::output_root) goes with its record.
outputs=$(find /var/tmp/cgspawn/output -mindepth 1 -maxdepth 2 2>/dev/null)
[ -n "$outputs" ] && echo "left behind: task output:" $outputs
[ -n "$left" ] && echo "left behind: cgroups:" $left
[ -n "$procs" ] && echo "left behind: processes: $procs"
[ -z "$left$procs$outputs" ] && echo "nothing left behind"
[ -z "$left$procs$outputs" ]
