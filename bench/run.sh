#!/bin/bash
# SPDX-License-Identifier: MIT
# The benchmarks of the process backend and `cgspawn run`, each against a baseline measured in
# the same run (interleaved, medians), printed as ratios with their targets:
#   [1] library spawn + wait + verified destroy of /bin/true   vs fork + exec + wait      <= 1.2x
#   [2] `cgspawn run -- /bin/true` as a whole process         vs /usr/bin/env /bin/true  <= 2x,
#       and the peak RSS of cgspawn run                                                  <= 8 MiB
#   [3] destroy of a 1000-process tree until verified empty   vs the kernel floor        <= 1.2x
#       (write cgroup.kill, poll cgroup.events for "populated 0")
#   [4] spawn + wait + destroy of /bin/true with lineage        vs --no-lineage            <= 1.1x
#   [5] a 1000-process tree, spawn to verified destroy, lineage vs --no-lineage            <= 1.1x
#   [6] destroy of a running task with the hang report vs --no-hang-report (1 and 1000 processes: figures)
#   [7] reading usage and pressure, against spawn + wait + verified destroy of /bin/true  <= 1.05x
# Usage: bash bench/run.sh [BUILD_DIR]      (root and cgroup2 needed; default BUILD_DIR: build)
# Runs: BENCH_RUNS_SPAWN (300), BENCH_RUNS_CLI (100), BENCH_RUNS_DESTROY (9), BENCH_RUNS_LINEAGE (300), BENCH_RUNS_HANG (30).
# Exit status 1 when a figure is over its target (timings on a busy shared host vary: rerun).
# BENCH_SHORT=1: a few rounds of each, to check that they run (the test suite's mode); the
# targets are then not checked.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: needs root (it creates cgroups)" >&2; exit 2; }
ninja -C "$build" >/dev/null

bench=$build/bench/cgspawn-bench
ratios=$(mktemp)
trap 'rm -f "$ratios"' EXIT

echo "cgspawn benchmarks: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
run() {  # the bench's own lines on stdout, its "ratio" lines into $ratios
  "$bench" "$@" > "$ratios.one"
  grep -v '^ratio ' "$ratios.one" || true
  grep '^ratio ' "$ratios.one" >> "$ratios" || true
  rm -f "$ratios.one"
}
short=${BENCH_SHORT:-0}
rounds() { [ "$short" = 1 ] && echo "$2" || echo "$1"; }
run spawn "${BENCH_RUNS_SPAWN:-$(rounds 300 5)}"
run cli "${BENCH_RUNS_CLI:-$(rounds 100 5)}" "$build/tools/cgspawn"
run destroy "${BENCH_RUNS_DESTROY:-$(rounds 9 1)}" "$build/tests/cgspawn-test-helper"
run lineage "${BENCH_RUNS_LINEAGE:-$(rounds 300 5)}" "$build/tests/cgspawn-test-helper"
run hang "${BENCH_RUNS_HANG:-$(rounds 30 2)}" "$build/tests/cgspawn-test-helper"

echo
echo "summary (value / target):"
awk '{ over = ($3 > $4); bad += over
       unit = ($2 ~ /mib$/) ? " MiB" : "x"
       printf "  %-14s %7.2f%s  (target <= %s%s)  %s\n", $2, $3, unit, $4, unit, over ? "OVER TARGET" : "ok" }
     END { exit (bad > 0 && short != 1) }' short="$short" "$ratios"
