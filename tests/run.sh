#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's second command: installs what the tests need, builds, and runs the whole suite
# (static checks, host tests on real cgroups, then the tiers that need real components). Exit 0
# only if all of it passed and nothing was left behind. Ends with each tier's time against its
# budget (the whole run is meant to fit in 45 minutes on a fresh 2-core machine; a tier over its
# budget is marked, not failed: a loaded machine is slower, not wrong). tests/README.md says what
# each tier needs and how to run one alone.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${CGSPAWN_TEST_BUILD:-$top/build-tests}
started=$SECONDS
times=()

"$top/tools/install-deps.sh" --tests
# The test build compiles for a short build, not for speed: unity (one compiler run per few
# files: the json, CLI11, spdlog and sd-bus headers are parsed once, not per file), -O1 and no
# debug info. 3.4 min instead of 10.5 on a 2-core machine; benchmarks use an optimized build.
[ -d "$build" ] || meson setup "$build" "$top" -Dcrash_points=true -Dunity=on -Doptimization=1 -Ddebug=false
ninja -C "$build"
build_mark=""
[ $((SECONDS - started)) -gt 600 ] && build_mark="OVER BUDGET"
times+=("$(printf '%-44s %6d s  (budget %4d s)  %s' "install and build" $((SECONDS - started)) 600 "$build_mark")")

status=0
# Every test binary notes here which cases ran and which were skipped, and where (check-coverage.sh).
export CGSPAWN_CASE_LOG=$build/case-log CGSPAWN_PLACE=host
rm -f "$CGSPAWN_CASE_LOG"
# Each tier's output is also kept, so that the failures can be shown again at the very end: a
# reader of only the run's last lines (a CI summary) still sees which case failed and why.
tier_logs=$(mktemp -d /tmp/cgspawn-tier-logs.XXXXXX)
trap 'rm -rf "$tier_logs"' EXIT
failed_tiers=()
run_tier() {  # name, budget in seconds, command...
  local name=$1 budget=$2 t=$SECONDS result=passed mark="" log
  shift 2
  log=$tier_logs/${#times[@]}.log
  echo "=== $name"
  if "$@" 2>&1 | tee "$log"; then
    echo "=== $name: passed"
  else
    echo "=== $name: FAILED"; status=1; result=FAILED; failed_tiers+=("$name|$log")
  fi
  [ $((SECONDS - t)) -gt "$budget" ] && mark="  OVER BUDGET"
  times+=("$(printf '%-44s %6d s  (budget %4d s)  %s%s' "$name" $((SECONDS - t)) "$budget" "$result" "$mark")")
}

run_tier "lint" 60 "$top/tests/lint.sh"
run_tier "unit and host tests" 240 meson test -C "$build" --suite unit --suite host --print-errorlogs
run_tier "python and avocado (real Avocado 113.0)" 240 "$top/tests/python/run-python-suite.sh" "$build"
run_tier "guest, Debian 12 (systemd 252, cgroup v2)" 1200 "$top/tests/guest/run-guest-suite.sh" "$build"
# Debian 13's systemd 257 takes processes by pidfd (PIDFDs): the systemd backend's other path.
run_tier "guest, Debian 13 (systemd 257, cgroup v2)" 600 \
  env CGSPAWN_GUEST_SUITE=trixie CGSPAWN_GUEST_TESTS=guest-systemd "$top/tests/guest/run-guest-suite.sh" "$build"
run_tier "podman (real podman, offline lab)" 240 "$top/tests/podman/run-podman-suite.sh" "$build"
run_tier "remote (ssh backend, fake remotes)" 240 "$top/tests/remote/run-remote-suite.sh" "$build"
# Every benchmark still runs, each backend's variant too (a few rounds each; their timings are
# not checked here).
run_tier "benchmarks, short mode" 480 "$top/bench/short.sh" "$build"
run_tier "leftovers" 60 "$top/tests/check-leftovers.sh"
run_tier "every test case ran somewhere" 30 "$top/tests/check-coverage.sh" "$build" "$CGSPAWN_CASE_LOG"

show_failures() {  # what each failed tier said of its failures, again, at most 80 lines each
  local entry
  for entry in "${failed_tiers[@]}"; do
    echo "=== failures of: ${entry%%|*}"
    # || true: no line matching (a leftovers tier) or head quitting early must not end the run
    grep -E -B3 -A10 'ERROR:|FATAL ERROR|CRASHED|FAILED|guest-watchdog|Traceback|not ok' "${entry#*|}" |
      head -n 80 || true
  done
}
[ ${#failed_tiers[@]} = 0 ] || show_failures
echo "=== time per tier"
printf '  %s\n' "${times[@]}"
printf '  %-44s %6d s  (budget %4d s)\n' "whole run" $((SECONDS - started)) 2700
[ $status = 0 ] && echo "cgspawn test suite: all tiers passed" || echo "cgspawn test suite: FAILED"
exit $status
