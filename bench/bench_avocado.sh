#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_avocado.sh [BUILD_DIR]: Avocado job wall time for 20 trivial tests with
# --spawner cgspawn against --spawner process, interleaved in the same run, medians of
# BENCH_AVOCADO_RUNS (5) jobs each. Target: within 1.1x. Exit 1 when it is missed or a job fails;
# BENCH_SHORT=1: one job each, to check that it works, the target not checked.
# Needs root (task cgroups) and Debian's python3-venv; installs Avocado from its source as the
# tests do (tests/python/make-venv.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
short=${BENCH_SHORT:-0}  # 1: one job each, to check that it works (the test suite's mode), no target
runs=${BENCH_AVOCADO_RUNS:-$([ "$short" = 1 ] && echo 1 || echo 5)}
work=$(mktemp -d /tmp/cgspawn-bench-avocado.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$top/tests/python/make-venv.sh" "$work/venv" "$("$top/tests/python/avocado-tarball.sh" "$build")"
export CGSPAWN_LIBRARY=$build/src/libcgspawn.so CGSPAWN_SUPERVISOR=$build/tools/cgspawn-supervisor
mkdir -m 0700 "$work/ledger"
printf '[spawner.cgspawn]\nstate_dir = %s\n' "$work/ledger" > "$work/avocado.conf"
tests=()
for i in $(seq 20); do
  printf '#!/bin/sh\nexit 0\n' > "$work/t$i"
  chmod +x "$work/t$i"
  tests+=("$work/t$i")
done
job() {  # SPAWNER: prints the wall time in ms
  local start end
  start=$(date +%s%N)
  "$work/venv/bin/avocado" --config "$work/avocado.conf" run --disable-sysinfo --spawner "$1" \
    --job-results-dir "$work/results" "${tests[@]}" >/dev/null 2>&1 || { echo "bench_avocado: a $1 job failed" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
: >"$work/process.ms"
: >"$work/cgspawn.ms"
job process >/dev/null  # warm the caches once
for _ in $(seq "$runs"); do
  job process >>"$work/process.ms"
  job cgspawn >>"$work/cgspawn.ms"
done
p=$(median <"$work/process.ms")
c=$(median <"$work/cgspawn.ms")
ratio=$(awk -v c="$c" -v p="$p" 'BEGIN { printf "%.2f", c / p }')
echo "avocado, 20 trivial tests: --spawner cgspawn ${c} ms, --spawner process ${p} ms (medians of $runs): ${ratio}x (target <= 1.1x)"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.1) }' && exit 0
echo "    $([ "$short" = 1 ] && echo 'not checked (short mode)' || echo MISSED)"
[ "$short" = 1 ]
