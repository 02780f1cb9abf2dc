#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's first command: install, build, install cgspawn, and show it destroying a task
# that escaped its parent (a double-forked daemon that ignores SIGTERM).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/install-deps.sh"
[ -d "$top/build-release" ] || meson setup "$top/build-release" "$top" --buildtype=release -Dtests=false
ninja -C "$top/build-release"
ninja -C "$top/build-release" install >/dev/null
ldconfig
echo
# The main process gives the daemon half a second to become `sleep 1000`, then exits.
echo '$ cgspawn run --grace 1s -- sh -c "setsid sh -c '"'"'trap \"\" TERM; exec sleep 1000'"'"' & sleep 0.5; echo main exits; exit 0"'
cgspawn run --grace 1s -- sh -c "setsid sh -c 'trap \"\" TERM; exec sleep 1000' </dev/null >/dev/null 2>&1 & sleep 0.5; echo main exits; exit 0"
echo
echo "No 'sleep 1000' is left:"
if pgrep -fa '^sleep 1000$'; then
  echo "  FAILED: the escaped daemon survived" >&2
  exit 1
fi
echo "  (none)"
