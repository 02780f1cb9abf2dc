#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails if the suite left a cgroup or process of its own behind.
u=/sys/fs/cgroup/unified; [ -d "$u" ] || u=/sys/fs/cgroup
left=$(find "$u" -mindepth 1 -maxdepth 3 -type d \( -name 'cgspawn-test*' -o -name 'cgspawn' \) 2>/dev/null)
procs=$(pgrep -a -f 'cgspawn-(supervisor|test)' 2>/dev/null | grep -v -e pgrep -e check-leftovers || true)
[ -n "$left" ] && echo "left behind: cgroups:" $left
[ -n "$procs" ] && echo "left behind: processes: $procs"
[ -z "$left$procs" ] && echo "nothing left behind"
[ -z "$left$procs" ]
