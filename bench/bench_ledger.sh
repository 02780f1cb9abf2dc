#!/bin/bash
# SPDX-License-Identifier: MIT
# Ledger benchmarks, as whole processes of the built CLI:
#   [1] `start` + `destroy` of /bin/sleep 100, against `run -- /bin/true`
#   [2] the supervisor's peak RSS (VmHWM) while a task runs        (target <= 3 MiB)
#   [3] `list` over 10,000 records ($BENCH_RECORDS)                 (target < 50 ms)
# Exits 1 when a target is missed. BENCH_SHORT=1: 2 rounds and 300 records, to check that it
# all runs (the test suite's mode): the targets are then not checked, only that it worked.
# Usage (root, cgroup2): bash bench/bench_ledger.sh [BUILD_DIR] [ROUNDS]
# Everything it makes (a state directory, a parent cgroup) is its own and removed on exit.
set -euo pipefail
build=${1:-$(dirname "$0")/../build}
short=${BENCH_SHORT:-0}
rounds=${2:-$([ "$short" = 1 ] && echo 2 || echo 50)}
cgspawn=$(realpath "$build/tools/cgspawn")
[ -x "$cgspawn" ] || { echo "bench_ledger: no $build/tools/cgspawn (build first)" >&2; exit 2; }
mount=/sys/fs/cgroup/unified; [ -f $mount/cgroup.procs ] || mount=/sys/fs/cgroup
state=$(mktemp -d /tmp/cgspawn-bench-ledger-XXXXXX)
parent=$mount/cgspawn-bench-ledger-$$
mkdir "$parent"
cleanup() {
  CGSPAWN_STATE_DIR=$state CGSPAWN_PARENT=$parent "$cgspawn" reap --orphans --grace 0 >/dev/null 2>&1 || true
  [ -e "$parent/cgroup.kill" ] && echo 1 > "$parent/cgroup.kill" 2>/dev/null || true
  for d in "$parent"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done; rmdir "$parent" 2>/dev/null || true
  rm -rf "$state"
}
trap cleanup EXIT
export CGSPAWN_STATE_DIR=$state CGSPAWN_PARENT=$parent
now() { date +%s%N; }
ms() { awk -v ns="$1" -v n="$2" 'BEGIN { printf "%.2f", ns / n / 1e6 }'; }
verdict() { [ "$1" = 1 ] && echo met || { [ "$short" = 1 ] && echo "not checked (short mode)" || echo MISSED; }; }

# [1]
t0=$(now)
for i in $(seq "$rounds"); do "$cgspawn" run -q --parent "$parent" -- /bin/true; done
t_run=$(( $(now) - t0 ))
t0=$(now)
for i in $(seq "$rounds"); do
  "$cgspawn" start --parent "$parent" --id "b$i" -- /bin/sleep 100 >/dev/null
  "$cgspawn" destroy "b$i" --grace 1s >/dev/null
done
t_sd=$(( $(now) - t0 ))
echo "[1] run -- /bin/true:                 $(ms $t_run "$rounds") ms per task ($rounds rounds)"
echo "    start + destroy of /bin/sleep 100: $(ms $t_sd "$rounds") ms per task"
awk -v a="$t_sd" -v b="$t_run" 'BEGIN { printf "    ratio (start+destroy) / run:       %.2f\n", a / b }'

# [2]
"$cgspawn" start --parent "$parent" --id rss -- /bin/sleep 100 >/dev/null
sup=$("$cgspawn" status rss --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p' | head -1)
sleep 0.2
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$sup/status")
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$sup/status")
ok=$([ "$hwm" -le 3072 ] && echo 1 || echo 0)
echo "[2] $(cat /proc/$sup/comm) (pid $sup): VmHWM ${hwm} kB ($(awk -v k="$hwm" 'BEGIN { printf "%.2f", k / 1024 }') MiB), VmRSS ${rss} kB; target <= 3 MiB: $(verdict "$ok")"
[ "$ok" = 1 ] || [ "$short" = 1 ] || missed=1
"$cgspawn" destroy rss --grace 1s >/dev/null

# [3] 10,000 records: copies of a real record with new ids, owned by a dead process, naming
# cgroups that do not exist (as a crashed runner leaves them), written through the Ledger.
records=${BENCH_RECORDS:-$([ "$short" = 1 ] && echo 300 || echo 10000)}
"$cgspawn" start --parent "$parent" --id model -- /bin/true >/dev/null
for _ in $(seq 100); do [ -n "$("$cgspawn" status model --json | grep '"exited"')" ] && break; sleep 0.02; done
"$build/bench/cgspawn-bench" records "$records" "$state" model
"$cgspawn" destroy model >/dev/null
# Baseline, interleaved: `ls -f` of the ledger (a process that only reads its directory).
best=999999999; total=0; base=0; n=$([ "$short" = 1 ] && echo 3 || echo 20)
for i in $(seq $n); do
  t0=$(now); "$cgspawn" list >/dev/null; t=$(( $(now) - t0 ))
  total=$(( total + t )); [ $t -lt $best ] && best=$t
  t0=$(now); ls -f "$state" >/dev/null; base=$(( base + $(now) - t0 ))
done
count=$("$cgspawn" list | grep -c '^rec' || true)
[ "$count" = "$records" ] || { echo "bench_ledger: list shows $count of the $records records" >&2; exit 1; }
t0=$(now); "$cgspawn" list --json >/dev/null; tj=$(( $(now) - t0 ))
ok=$(awk -v t="$total" -v n=$n 'BEGIN { print (t / n < 50e6) ? 1 : 0 }')
echo "[3] list over $count records: $(ms $total $n) ms mean, $(ms $best 1) ms best ($n runs); ls -f of the ledger $(ms $base $n) ms (ratio $(awk -v a="$total" -v b="$base" 'BEGIN { printf "%.2f", a / b }')); list --json $(ms $tj 1) ms; target < 50 ms: $(verdict "$ok")"
[ "$ok" = 1 ] || [ "$short" = 1 ] || missed=1
exit "${missed:-0}"
