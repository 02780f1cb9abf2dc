#!/bin/bash
# SPDX-License-Identifier: MIT
# cgspawn at a thousand tasks, as whole processes of the built CLI, each figure beside its
# baseline measured in the same run (docs/performance.md, "scale"):
#   [s1] N tasks started with `cgspawn start` (each a sleep) from 8 parallel callers: tasks per
#        second, beside `setsid -f sleep` started the same way              target >= 96/s
#   [s2] while they run: `list` (median of 10)                                  target <= 50 ms
#        `status ID` (median of 10)                                             target <= 10 ms
#        memory per running task: PSS of every process cgspawn keeps for them  target <= 1 MiB
#        CPU used by those processes over 5 s while the tasks sleep             target 0 (< 20 ms)
#   [s3] destroy all N (`destroy --label`, one call) to verified gone, beside writing
#        cgroup.kill into N cgroups and waiting for each to empty (bench/scale_floor.py) <= 2x
#   [s4] reap N orphans after their supervisors were SIGKILLed: the same bound   <= 2x
#   [s5] 200 concurrent `cgspawn run -- /bin/true` for 60 s: no error, no leftover cgroup,
#        record or process; the throughput
# Usage (root, cgroup2): bash bench/bench_scale.sh [BUILD_DIR]
#   SCALE_TASKS (1000), SCALE_RUN_SECONDS (60), SCALE_RUNNERS (200); SCALE_STATE_ROOT (/tmp):
#   where the ledger goes, and with it the tasks' output (cgspawn's default ledger, /run, is a
#   tmpfs on a systemd host: SCALE_STATE_ROOT=/dev/shm measures that here).
#   SCALE_SHORT=1: 50 tasks, 5 s of 20 runners (10 tasks and 5 runners for systemd and remote):
#   checks that it all works, not the timings.
#   SCALE_BACKEND=systemd: the tasks are transient scopes, in the test guest (real systemd, pure
#   cgroup v2, booted once for the run; TCG, so 50 tasks, 20 runners for 20 s by default), and
#   the [s1] baseline is `systemd-run --scope sleep` started the same way.
#   SCALE_BACKEND=remote: the tasks run on one fake remote host (tests/remote/lab-up.sh, lab
#   SCALE_LAB, default 75, torn down on exit; 100 tasks, 20 runners for 20 s by default); the
#   [s1] baseline is `ssh HOST setsid -f sleep` over a master of its own, started the same way;
#   the kept processes include cgspawn's ssh masters and sessions, and the idle CPU is a figure
#   only (each task's lease sends a heartbeat three times per lease: docs/backends.md).
# Exit status 1 when a target is missed (in the short mode: only when something fails).
# Everything it makes (a state directory, parent cgroups) is its own and removed on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
backend=${SCALE_BACKEND:-process}
if [ "$backend" = systemd ] && [ "$(cat /proc/1/comm)" != systemd ]; then
  "$top/tests/guest/build-image.sh" >/dev/null
  cd "$top" && exec "$top/tests/guest/run-in-guest.sh" -t 1800 -e SCALE_BACKEND=systemd \
    -e "SCALE_TASKS=${SCALE_TASKS:-50}" -e "SCALE_RUN_SECONDS=${SCALE_RUN_SECONDS:-20}" \
    -e "SCALE_RUNNERS=${SCALE_RUNNERS:-20}" -e "SCALE_SHORT=${SCALE_SHORT:-0}" -- "$top/bench/bench_scale.sh" "$build"
fi
cgspawn=$build/tools/cgspawn
[ -x "$cgspawn" ] || { echo "bench_scale: no $cgspawn (build first)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_scale: needs root (it creates cgroups)" >&2; exit 2; }
short=${SCALE_SHORT:-0}
default_tasks=1000 default_seconds=60 default_runners=200
[ "$backend" = remote ] && default_tasks=100 default_seconds=20 default_runners=20
if [ "$short" = 1 ]; then n=50 seconds=5 runners=20; [ "$backend" = process ] || n=10 runners=5; else
  n=${SCALE_TASKS:-$default_tasks} seconds=${SCALE_RUN_SECONDS:-$default_seconds} runners=${SCALE_RUNNERS:-$default_runners}; fi
mount=/sys/fs/cgroup/unified; [ -f $mount/cgroup.procs ] || mount=/sys/fs/cgroup
state=$(mktemp -d "${SCALE_STATE_ROOT:-/tmp}/cgspawn-bench-scale-XXXXXX")
# With SCALE_STATE_ROOT the tasks' output directories go there too: every file cgspawn makes per
# task is on that filesystem (docs/performance.md: a journal-less ext4 pays for each new inode).
[ -n "${SCALE_STATE_ROOT:-}" ] && export CGSPAWN_OUTPUT_ROOT=$state/outputs/output
parent=$mount/cgspawn-bench-scale-$$ floor=$mount/cgspawn-bench-scale-floor-$$
mkdir "$parent" "$floor"
lab=${SCALE_LAB:-75}
# How many tasks are left: cgroups under the parent or on the remote, or units.
tasks_left() {
  case $backend in
    systemd) systemctl list-units 'cgspawn-*' --all --plain --no-legend | wc -l ;;
    remote) { find "$mount/cgspawn-testlab-r$lab/cgspawn-remote" -mindepth 1 -maxdepth 1 -type d 2>/dev/null || true; } | wc -l ;;
    *) find "$parent" -mindepth 1 -type d | wc -l ;;
  esac
}
cleanup() {  # its tasks, live or orphaned, with their records and output directories
  set +e
  "$cgspawn" destroy --state-dir "$state" --label bench=scale --grace 0 >/dev/null 2>&1 || true
  "$cgspawn" reap --state-dir "$state" --orphans --grace 0 >/dev/null 2>&1 || true
  [ "$backend" = remote ] && "$top/tests/remote/lab-down.sh" "$lab" >/dev/null 2>&1  # its processes too
  for p in "$floor" "$parent"; do
    [ -d "$p" ] || continue
    echo 1 > "$p/cgroup.kill" 2>/dev/null || true
    find "$p" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
    rmdir "$p" 2>/dev/null || true
  done
  rm -rf "$state"
}
trap cleanup EXIT
# Where the tasks go.
case $backend in
  systemd) task_args=(--backend systemd) ;;
  remote) cfg=$("$top/tests/remote/lab-up.sh" "$lab") || { echo "bench_scale: lab-up.sh $lab failed" >&2; exit 2; }
    host=r$lab task_args=(--backend remote --host "r$lab" --ssh-config "$cfg") ;;
  *) task_args=(--parent "$parent") ;;
esac
export CGSPAWN_STATE_DIR=$state
failed=0 missed=0
ms_now() { echo "${EPOCHREALTIME/./}"; }  # microseconds
since_ms() { awk -v a="$1" -v b="$(ms_now)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# check NAME VALUE OP TARGET UNIT: prints the verdict; a miss counts (not in the short mode).
check() {
  local ok
  ok=$(awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN { print (op == "<=" ? v <= t : v >= t) ? 1 : 0 }')
  printf '    %-10s %10s %s (target %s %s %s): %s\n' "$1" "$2" "$5" "$3" "$4" "$5" \
    "$([ "$ok" = 1 ] && echo ok || echo "$([ "$short" = 1 ] && echo 'not checked (short mode)' || echo MISSED)")"
  [ "$ok" = 1 ] || [ "$short" = 1 ] || missed=$((missed + 1))
}
fail() { echo "bench_scale: FAILED: $*" >&2; failed=$((failed + 1)); }
supervisors() { "$cgspawn" list --json --label bench=scale | /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin)["tasks"]:
    o = t.get("owner", {})
    if o.get("kind") == "supervisor": print(o["pid"])'; }

echo "cgspawn scale: $n tasks, $backend backend; $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); ledger on $(stat -f -c %T "$state")$([ "$short" = 1 ] && echo ', SHORT mode')"

# [s1] ---------------------------------------------------------------------------------------
start_all() {  # start_all PREFIX: N tasks from 8 callers; prints nothing on success
  seq "$n" | xargs -P 8 -I{} "$cgspawn" start "${task_args[@]}" --label bench=scale --id "$1{}" \
    -- /bin/sleep 100000 > "$state/ids" 2> "$state/start.err" || fail "cgspawn start: $(head -3 "$state/start.err")"
  [ -s "$state/start.err" ] && fail "cgspawn start wrote to stderr: $(head -3 "$state/start.err")"
  [ "$(wc -l < "$state/ids")" = "$n" ] || fail "cgspawn start printed $(wc -l < "$state/ids") lines for $n tasks"
  grep -qv "^$1[0-9]*$" "$state/ids" && fail "cgspawn start printed more than the ids: $(grep -v "^$1[0-9]*$" "$state/ids" | head -2)"
  return 0
}
t0=$(ms_now)
start_all s
t_start=$(since_ms "$t0")
base=$floor/setsid
mkdir "$base"
if [ "$backend" = systemd ]; then  # a scope each, started in the background like the tasks
  baseline="systemd-run --scope sleep"
  t0=$(ms_now)
  seq "$n" | xargs -P 8 -I{} setsid -f systemd-run --quiet --scope --unit "scalebase-$$-{}" /bin/sleep 100000
  until [ "$(systemctl list-units "scalebase-$$-*" --state active --plain --no-legend | wc -l)" -ge "$n" ]; do
    [ "$(since_ms "$t0" | cut -d. -f1)" -lt 600000 ] || { fail "the baseline scopes did not all start"; break; }
    sleep 0.01
  done
  t_base=$(since_ms "$t0")
  systemctl kill --signal KILL "scalebase-$$-*.scope" 2>/dev/null || true
elif [ "$backend" = remote ]; then  # over a master of its own, as cgspawn's sessions are
  baseline="ssh $host setsid -f sleep"
  ssh -F "$cfg" -o ControlMaster=yes -o ControlPath="$state/base.sock" -o ControlPersist=60 -N -f "$host"
  t0=$(ms_now)
  seq "$n" | xargs -P 8 -I{} ssh -F "$cfg" -o ControlMaster=no -o ControlPath="$state/base.sock" "$host" \
    "setsid -f /bin/sleep 100001 </dev/null >/dev/null 2>&1"
  t_base=$(since_ms "$t0")
  ssh -F "$cfg" -o ControlPath="$state/base.sock" "$host" pkill -x -f "'/bin/sleep 100001'" || true
  ssh -F "$cfg" -o ControlPath="$state/base.sock" -O exit "$host" 2>/dev/null
else
  baseline="setsid -f sleep"
  t0=$(ms_now)
  ( echo "$BASHPID" > "$base/cgroup.procs"; seq "$n" | xargs -P 8 -I{} setsid -f /bin/sleep 100000 )
  t_base=$(since_ms "$t0")
  echo 1 > "$base/cgroup.kill"
fi
rate=$(awk -v n="$n" -v ms="$t_start" 'BEGIN { printf "%.0f", n / ms * 1000 }')
base_rate=$(awk -v n="$n" -v ms="$t_base" 'BEGIN { printf "%.0f", n / ms * 1000 }')
echo "[s1] $n x cgspawn start from 8 callers: ${t_start} ms, $rate tasks/s; $baseline the same way: ${t_base} ms, $base_rate/s"
check start "$rate" ">=" 96 "tasks/s"

# [s2] ---------------------------------------------------------------------------------------
for _ in $(seq 10); do t0=$(ms_now); "$cgspawn" list --label bench=scale > /dev/null; since_ms "$t0"; echo; done \
  | median > "$state/list.ms"
for _ in $(seq 10); do t0=$(ms_now); "$cgspawn" status s1 > /dev/null; since_ms "$t0"; echo; done \
  | median > "$state/status.ms"
echo "[s2] with $n tasks running: list $(cat "$state/list.ms") ms, status ID $(cat "$state/status.ms") ms (medians of 10)"
check list "$(cat "$state/list.ms")" "<=" 50 ms
check status "$(cat "$state/status.ms")" "<=" 10 ms
mapfile -t sups < <(supervisors)
[ "${#sups[@]}" = "$n" ] || fail "${#sups[@]} supervisors for $n tasks"
# What cgspawn keeps for the tasks: their supervisors and the ledger's lineage server.
mapfile -t servers < <(pgrep -x -f "cgspawn-supervisor --lineage $state" || true)
[ "${#servers[@]}" -le 1 ] || fail "${#servers[@]} lineage servers for one ledger"
# The remote backend's ssh masters and each task's session (their ControlPath is in the ledger).
mapfile -t ssh_kept < <(pgrep -f "ControlPath=$state/" || true)
kept=("${sups[@]}" "${servers[@]}" "${ssh_kept[@]}")
# The CPU figure is read with builtins only: a fork of this script would wake every process
# that follows forks (lineage), and count against them.
ticks() { local p f; T=0; for p in "$@"; do read -r -a f < "/proc/$p/stat"; T=$((T + f[13] + f[14])); done; }
ticks "${kept[@]}"; ticks0=$T
sleep 5
ticks "${kept[@]}"; ticks1=$T
pss=$(/usr/bin/python3 -c '
import sys
total = 0
for p in sys.argv[1:]:
    for line in open(f"/proc/{p}/smaps_rollup"):
        if line.startswith("Pss:"): total += int(line.split()[1])
print(total)' "${kept[@]}")
per_task=$(awk -v k="$pss" -v n="$n" 'BEGIN { printf "%.2f", k / n / 1024 }')
cpu_ms=$(( (ticks1 - ticks0) * 1000 / $(getconf CLK_TCK) ))
echo "    memory: ${#sups[@]} supervisors, ${#servers[@]} lineage server and ${#ssh_kept[@]} ssh processes, PSS $((pss / 1024)) MiB in all, $per_task MiB per task; CPU over 5 s of sleep: $cpu_ms ms"
check pss "$per_task" "<=" 1 MiB
if [ "$backend" = remote ]; then echo "    idle-cpu: a figure only here (the leases' heartbeats)"
else check idle-cpu "$cpu_ms" "<=" 20 ms; fi

# [s3] ---------------------------------------------------------------------------------------
t0=$(ms_now)
"$cgspawn" destroy --label bench=scale --grace 0 > "$state/destroy.out" 2> "$state/destroy.err" || fail "destroy --label: exit $? $(head -3 "$state/destroy.err")"
t_destroy=$(since_ms "$t0")
[ -s "$state/destroy.err" ] && fail "destroy wrote to stderr: $(head -3 "$state/destroy.err")"
left=$(tasks_left)
[ "$left" = 0 ] || fail "$left task cgroups or units left after destroy"
read -r t_floor t_rmdir < <(/usr/bin/python3 "$top/bench/scale_floor.py" "$floor" "$n")
ratio=$(awk -v a="$t_destroy" -v b="$t_floor" 'BEGIN { printf "%.2f", a / b }')
echo "[s3] destroy --label of $n tasks to verified gone: $t_destroy ms; cgroup.kill into $n cgroups + wait: $t_floor ms (then rmdir of them: $t_rmdir ms)"
check destroy "$ratio" "<=" 2 x

# [s4] ---------------------------------------------------------------------------------------
start_all o
mapfile -t sups < <(supervisors)
kill -KILL "${sups[@]}"
for p in "${sups[@]}"; do while [ -e "/proc/$p" ]; do sleep 0.01; done; done
t0=$(ms_now)
"$cgspawn" reap --grace 0 > "$state/reap.out" 2> "$state/reap.err" || fail "reap: $(head -3 "$state/reap.err")"
t_reap=$(since_ms "$t0")
left=$(tasks_left)
[ "$left" = 0 ] || fail "$left task cgroups or units left after reap"
read -r t_floor t_rmdir < <(/usr/bin/python3 "$top/bench/scale_floor.py" "$floor" "$n")
ratio=$(awk -v a="$t_reap" -v b="$t_floor" 'BEGIN { printf "%.2f", a / b }')
echo "[s4] reap of $n orphans (supervisors SIGKILLed): $t_reap ms; cgroup.kill into $n cgroups + wait: $t_floor ms (then rmdir of them: $t_rmdir ms)"
check reap "$ratio" "<=" 2 x

# [s5] ---------------------------------------------------------------------------------------
runner() {  # runner SECONDS: `cgspawn run -q -- /bin/true` until then; one line per run
  local end=$(( ${EPOCHREALTIME%.*} + $1 ))
  while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
    if "$cgspawn" run -q "${task_args[@]}" -- /bin/true 2>> "$state/run.err"; then echo ok; else echo "failed $?"; fi
  done
}
t0=$(ms_now)
for _ in $(seq "$runners"); do runner "$seconds" & done > "$state/runs"
wait
t_runs=$(since_ms "$t0")
ok=$(grep -c '^ok$' "$state/runs" || true) bad=$(grep -vc '^ok$' "$state/runs" || true)
left=$(tasks_left) records=$("$cgspawn" list | wc -l)
echo "[s5] $runners concurrent cgspawn run -- /bin/true for $seconds s: $ok runs, $(awk -v n="$ok" -v ms="$t_runs" 'BEGIN { printf "%.0f", n / ms * 1000 }')/s; $bad failed; $left task cgroups or units and $records records left"
[ "$bad" = 0 ] || fail "$bad runs failed: $(head -3 "$state/run.err")"
[ "$left" = 0 ] && [ "$records" = 0 ] || fail "leftovers after the concurrent runs"
[ "$(cat "$parent/cgroup.procs")" = "" ] || fail "processes left in $parent"

echo
[ "$failed" = 0 ] || { echo "bench_scale: $failed failure(s)"; exit 1; }
[ "$missed" = 0 ] || { echo "bench_scale: $missed target(s) missed"; exit 1; }
echo "bench_scale: all $([ "$short" = 1 ] && echo "steps ran (short mode)" || echo "targets met")"
