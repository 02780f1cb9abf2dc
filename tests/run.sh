#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's second command: installs what the tests need, builds, and runs the whole suite
# (static checks, host tests on real cgroups, then the tiers that need real components). Exit 0
# only if all of it passed and nothing was left behind.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${CGSPAWN_TEST_BUILD:-$top/build-tests}

"$top/tools/install-deps.sh" --tests
[ -d "$build" ] || meson setup "$build" "$top" -Dcrash_points=true
ninja -C "$build"

status=0
# Every test binary notes here which cases ran and which were skipped, and where (check-coverage.sh).
export CGSPAWN_CASE_LOG=$build/case-log CGSPAWN_PLACE=host
rm -f "$CGSPAWN_CASE_LOG"
run_tier() {  # name, command...
  local name=$1; shift
  echo "=== $name"
  if "$@"; then echo "=== $name: passed"; else echo "=== $name: FAILED"; status=1; fi
}

run_tier "lint" "$top/tests/lint.sh"
run_tier "unit and host tests" meson test -C "$build" --suite unit --suite host --print-errorlogs
run_tier "python and avocado (real Avocado 113.0)" "$top/tests/python/run-python-suite.sh" "$build"
run_tier "guest (real systemd, pure cgroup v2)" "$top/tests/guest/run-guest-suite.sh" "$build"
run_tier "podman (real podman, offline lab)" "$top/tests/podman/run-podman-suite.sh" "$build"
run_tier "remote (ssh backend, fake remotes)" "$top/tests/remote/run-remote-suite.sh" "$build"
run_tier "leftovers" "$top/tests/check-leftovers.sh"
run_tier "every test case ran somewhere" "$top/tests/check-coverage.sh" "$build" "$CGSPAWN_CASE_LOG"
[ $status = 0 ] && echo "cgspawn test suite: all tiers passed" || echo "cgspawn test suite: FAILED"
exit $status
