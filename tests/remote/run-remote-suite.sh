#!/bin/bash
# SPDX-License-Identifier: MIT
# run-remote-suite.sh [BUILD_DIR] - the remote backend's tier: brings up three fake remotes
# (N_BASH: bash login shell, shared PID ns; N_DASH: REMOTE_SHELL=/bin/dash REMOTE_PIDNS=1;
# N_CGSPAWN: as N_DASH, with this build's cgspawn installed there),
# runs `meson test --suite remote` against them, and ALWAYS tears them down (trap), whatever
# passed or failed. Fails loudly when a lab cannot start. Exit 0 only if the suite passed and
# the teardown left nothing.
#   N_BASH / N_DASH / N_CGSPAWN (default 71 / 72 / 73) pick the lab numbers (10.200.N.0/24).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${1:-${CGSPAWN_TEST_BUILD:-$TOP/build-tests}}
N_BASH=${N_BASH:-71}
N_DASH=${N_DASH:-72}
N_CGSPAWN=${N_CGSPAWN:-73}

teardown() {
  local rc=0
  "$HERE/lab-down.sh" "$N_BASH" || rc=1
  "$HERE/lab-down.sh" "$N_DASH" || rc=1
  "$HERE/lab-down.sh" "$N_CGSPAWN" || rc=1
  [ $rc = 0 ] || echo "run-remote-suite: FAILED: the lab teardown left something behind" >&2
  return $rc
}
on_exit() {
  local rc=$?
  teardown || rc=1
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

[ -d "$BUILD" ] || { echo "run-remote-suite: FAILED: no build dir $BUILD" >&2; exit 1; }
if ! "$HERE/lab-up.sh" "$N_BASH" >/dev/null; then
  echo "run-remote-suite: FAILED: lab r$N_BASH did not start" >&2; exit 1
fi
if ! REMOTE_SHELL=/bin/dash REMOTE_PIDNS=1 "$HERE/lab-up.sh" "$N_DASH" >/dev/null; then
  echo "run-remote-suite: FAILED: lab r$N_DASH did not start" >&2; exit 1
fi
CGSPAWN_BIN_PATH=$(cd "$BUILD" && pwd)/tools/cgspawn
if ! REMOTE_SHELL=/bin/dash REMOTE_PIDNS=1 REMOTE_CGSPAWN="$CGSPAWN_BIN_PATH" "$HERE/lab-up.sh" "$N_CGSPAWN" >/dev/null; then
  echo "run-remote-suite: FAILED: lab r$N_CGSPAWN (cgspawn installed) did not start" >&2; exit 1
fi
CGSPAWN_REMOTE_LABS="$N_BASH $N_DASH $N_CGSPAWN" meson test -C "$BUILD" --suite remote --print-errorlogs
