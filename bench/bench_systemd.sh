#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_systemd.sh [BUILD_DIR] [N]
#
# The systemd backend in the guest VM (real systemd 252, pure cgroup v2, TCG emulation): one
# scope spawn + verified destroy of /bin/true through the library (cgspawn-bench-systemd) and
# through the CLI (`cgspawn run --backend systemd -- /bin/true`), against
# `systemd-run --scope /bin/true`; the CLI's process backend as its own start-up baseline; and
# the process backend's library spawn against bare fork + exec + wait (bench.cc spawn).
# Target: ratio <= 1.0 (exit 1 when missed, or when a unit is left; BENCH_SHORT=1: 2 runs, to
# check that it works, the target not checked). Run on the host: boots the guest once (tests/guest/run-in-guest.sh) and
# runs itself there. BUILD_DIR must be built and inside the git top-level the guest shares.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(realpath "${1:-$top/build}")
short=${BENCH_SHORT:-0}  # 1: 2 runs, to check that it works (the test suite's mode), no target
n=${2:-$([ "$short" = 1 ] && echo 2 || echo 20)}

if [ "$(cat /proc/1/comm)" != systemd ]; then
  "$top/tests/guest/build-image.sh" >/dev/null
  cd "$top" && exec "$top/tests/guest/run-in-guest.sh" -t 1200 -- env BENCH_SHORT="$short" "$here/bench_systemd.sh" "$build" "$n"
fi

cgspawn=$build/tools/cgspawn/cgspawn
[ -x "$cgspawn" ] || cgspawn=$build/tools/cgspawn
CGSPAWN_STATE_DIR=$(mktemp -d /run/cgsd-bench.XXXXXX)
export CGSPAWN_STATE_DIR
trap 'rm -rf "$CGSPAWN_STATE_DIR"' EXIT

now() { date +%s%N; }
# Seconds per iteration of "$@", after one warm-up run.
per_run() {  # fails when a run fails (set -e does not reach into $(...))
  "$@" >/dev/null || return 1
  local start end i
  start=$(now)
  for ((i = 0; i < n; i++)); do "$@" >/dev/null || return 1; done
  end=$(now)
  echo "scale=4; ($end - $start) / $n / 1000000000" | bc 2>/dev/null || awk "BEGIN { printf \"%.4f\", ($end - $start) / $n / 1e9 }"
}

echo "systemd $(systemctl --version | head -1 | cut -d' ' -f2), kernel $(uname -r), $n runs each, TCG guest"
sd=$(per_run systemd-run --quiet --scope /bin/true)
lib=$("$build/bench/cgspawn-bench-systemd" "$n")
cg=$(per_run "$cgspawn" run -q --backend systemd -- /bin/true)
pr=$(per_run "$cgspawn" run -q --parent /sys/fs/cgroup/cgspawn-bench -- /bin/true)
rmdir /sys/fs/cgroup/cgspawn-bench 2>/dev/null || true
# The process backend through the library against bare fork + exec + wait, in the guest.
proc=$("$build/bench/cgspawn-bench" spawn "$((n * 5))" | grep -v '^ratio ')
left=$(systemctl list-units 'cgspawn-*' --all --plain --no-legend | wc -l)
awk -v sd="$sd" -v lib="$lib" -v cg="$cg" -v pr="$pr" -v left="$left" 'BEGIN {
  printf "systemd-run --scope /bin/true                           %8.1f ms\n", sd * 1000
  printf "library: spawn + wait (verified destroy), systemd scope %8.1f ms   ratio %.2fx (target <= 1.0x)\n", lib, lib / (sd * 1000)
  printf "cgspawn run --backend systemd /bin/true (CLI, ledger)   %8.1f ms   ratio %.2fx\n", cg * 1000, cg / sd
  printf "cgspawn run --backend process /bin/true (CLI baseline)  %8.1f ms\n", pr * 1000
  printf "cgspawn-* units left afterwards                         %8d\n", left
}'
echo "process backend in the guest: $proc"
# Exit 1 when a unit is left (always) or the library's ratio misses its target (not in the short mode).
[ "$left" = 0 ] || { echo "bench_systemd: FAILED: $left cgspawn-* unit(s) left" >&2; exit 1; }
if ! awk -v lib="$lib" -v sd="$sd" 'BEGIN { exit !(lib <= sd * 1000) }'; then
  echo "    library ratio over 1.0x: $([ "$short" = 1 ] && echo 'not checked (short mode)' || echo MISSED)"
  [ "$short" = 1 ] || exit 1
fi
