#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_podman.sh BUILD_DIR [RUNS] - the podman backend against podman alone (medians, ratios):
#  [1] cgspawn run --backend podman -- /bin/true   vs  podman run --rm IMAGE /bin/true   (target <= 1.2x)
#  [2] destroy of a 100-process container until it is *verified* gone (container, cgroup,
#      conmon) vs podman rm -f -t 0 (podman's own word only)                         (target <= 1.0x)
# Uses the offline lab (tests/podman/lab-up.sh), and always tears it down (lab-down.sh).
# Both sides of each ratio run in the same loop, alternating, so machine load hits both alike.
# Exit 1 when a run fails or a target is missed; BENCH_SHORT=1: one run each, to check that it
# all works (the test suite's mode), the targets not checked.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:?usage: bench_podman.sh BUILD_DIR [RUNS]}
short=${BENCH_SHORT:-0}
RUNS=${2:-$([ "$short" = 1 ] && echo 1 || echo 7)}
failed=0 missed=0
fail() { echo "bench_podman: FAILED: $*" >&2; failed=$((failed + 1)); }
# check RATIO TARGET: the verdict; a miss counts (not in the short mode).
check() {
  if awk -v r="$1" -v t="$2" 'BEGIN { exit !(r <= t) }'; then echo "    ok"; return; fi
  [ "$short" = 1 ] && { echo "    not checked (short mode)"; return; }
  echo "    MISSED"; missed=$((missed + 1))
}
CGSPAWN=$BUILD/tools/cgspawn
export CGSPAWN_PODMAN_CGROUP_ROOTS=/cgspawn-podtest
U=/sys/fs/cgroup/unified
PARENT=$U/cgspawn-podtest/bench-$$
STATE=$(mktemp -d /tmp/cgspawn-bench-podman-XXXXXX)
export CGSPAWN_STATE_DIR=$STATE

exec 9<"$HERE/../tests/podman/selftest.sh"; flock -w 900 9 || { echo "the podman lab is busy" >&2; exit 2; }
trap '"$HERE/../tests/podman/lab-down.sh"; rm -rf "$STATE"' EXIT
eval "$("$HERE/../tests/podman/lab-up.sh")" || { echo "bench_podman: lab-up failed" >&2; exit 1; }
IMG=$CGSPAWN_PODMAN_IMAGE

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

# [1] run /bin/true
ours=(); base=()
for i in $(seq 1 "$RUNS"); do
  t0=$(now_ms); "$CGSPAWN" run -q --backend podman --image "$IMG" --parent "$PARENT" -- /bin/true || fail "cgspawn run: exit $?"
  t1=$(now_ms); podman run --rm --pull=never --network=none --cgroup-parent=/cgspawn-podtest/bench-$$-base "$IMG" /bin/true \
    || fail "podman run: exit $?"
  t2=$(now_ms); ours+=($((t1 - t0))); base+=($((t2 - t1)))
done
m_ours=$(printf '%s\n' "${ours[@]}" | median); m_base=$(printf '%s\n' "${base[@]}" | median)
echo "[1] cgspawn run --backend podman -- /bin/true: median ${m_ours} ms; podman run --rm: ${m_base} ms;" \
     "ratio $(ratio "$m_ours" "$m_base")x (target <= 1.2x; $RUNS runs each)"
check "$(ratio "$m_ours" "$m_base")" 1.2

# [2] destroy a 100-process container
wait_procs() { # CGROUP2_DIR: until /bin/workload 100 has its 103 processes
  for _ in $(seq 1 600); do
    [ "$(find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | wc -l)" -ge 103 ] && return 0; sleep 0.05
  done; return 1
}
ours=(); base=()
for i in $(seq 1 "$RUNS"); do
  id=bench-$$-$i
  "$CGSPAWN" start --backend podman --image "$IMG" --parent "$PARENT" --id "$id" -- /bin/workload 100 >/dev/null || fail "cgspawn start: exit $?"
  wait_procs "$PARENT/cgspawn-$id" || fail "the container of $id did not reach 103 processes"
  t0=$(now_ms); "$CGSPAWN" destroy "$id" --grace 0s >/dev/null || fail "cgspawn destroy $id: incomplete"; t1=$(now_ms)
  ours+=($((t1 - t0)))
  cid=$(podman run -d --pull=never --network=none --name "cgspawn-test-bench-$i" \
        --cgroup-parent=/cgspawn-podtest/bench-$$-base "$IMG" /bin/workload 100) || fail "podman run -d: exit $?"
  wait_procs "$U/cgspawn-podtest/bench-$$-base/libpod-$cid" || fail "the baseline container did not reach 103 processes"
  t0=$(now_ms); podman rm -f -t 0 "$cid" >/dev/null || fail "podman rm: exit $?"; t1=$(now_ms)
  base+=($((t1 - t0)))
done
m_ours=$(printf '%s\n' "${ours[@]}" | median); m_base=$(printf '%s\n' "${base[@]}" | median)
echo "[2] destroy of 103 processes to verified gone (cgspawn destroy, via the supervisor): median ${m_ours} ms;" \
     "podman rm -f -t 0: ${m_base} ms; ratio $(ratio "$m_ours" "$m_base")x (target <= 1.0x; $RUNS runs each)"
check "$(ratio "$m_ours" "$m_base")" 1.0
[ "$failed" = 0 ] && [ "$missed" = 0 ]
