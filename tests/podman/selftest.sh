#!/bin/bash
# SPDX-License-Identifier: MIT
# selftest.sh - prove the podman test bed works on this machine, then tear it down.
#
# lab-up; run the image; destroy a 103-process container and verify on our own that the
# container, its cgroup2 node and conmon are gone; inject a runtime failure (podman rm fails,
# cgroup.kill empties the cgroup); make a process unkillable with a v1 freezer and thaw it;
# lab-down; check nothing is left. Exits non-zero on any failure; lab-down runs on every exit.
# Usage (root): tests/podman/selftest.sh        Env: CGSPAWN_PODMAN_LAB (see lab-up.sh)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CGROOT=/cgspawn-podtest                   # absolute --cgroup-parent root of every test container
export CGSPAWN_PODMAN_CGROUP_ROOTS=$CGROOT
CGFS=/sys/fs/cgroup
U=$CGFS/unified
FAILS=0
IDS=()                                    # every container ID started here, for the final checks
DOWN_DONE=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
info() { echo "INFO: $*"; }
now_ms() { date +%s%3N; }

# ------------------------------------------------------------------ helpers
populated() { [ -f "$U$1/cgroup.events" ] && grep -q '^populated 1' "$U$1/cgroup.events"; }
cg_pids() { cat "$U$1/cgroup.procs" 2>/dev/null | tr '\n' ' '; }
conmon_alive() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -q -- "-c $2"; }
known() { podman container exists "$1"; }      # rc 1 = podman no longer knows it

# gone ID CG CONMON: podman forgot it, its cgroup2 node is empty (or absent), conmon exited.
gone() { ! known "$1" && ! populated "$2" && ! conmon_alive "$3" "$1"; }

wait_for() { # MS CMD... : poll CMD every 10 ms for up to MS
  local end=$(( $(now_ms) + $1 )); shift
  until "$@"; do [ "$(now_ms)" -lt "$end" ] || return 1; sleep 0.01; done
}

# start NAME ARGS...: detached container under $CGROOT/NAME; sets ID CG CONMON (recorded at
# launch: after a failed stop, podman inspect reports an empty CgroupPath).
start() {
  local name=$1; shift
  ID=$(podman run -d --pull=never --name "$name" --cgroup-parent="$CGROOT/$name" "$@") || return 1
  IDS+=("$ID")
  wait_for 5000 sh -c "podman logs $ID 2>/dev/null | grep -q ready" || return 1
  read -r CG CONMON <<<"$(podman inspect --format '{{.State.CgroupPath}} {{.State.ConmonPid}}' "$ID")"
  [ "$CG" = "$CGROOT/$name/libpod-$ID" ]
}

pid_of_cmd() { # CG CMDLINE: first PID in the container's cgroup2 node running exactly CMDLINE
  local p
  for p in $(cg_pids "$1"); do
    [ "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" = "$2 " ] && { echo "$p"; return; }
  done
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Firewall state, to prove no network setup touched the host (iptables-nft on Debian 12).
fw_state() {
  { iptables-save; ip6tables-save; } 2>/dev/null | grep -E '^[:*]' | sort
  ip -o link show 2>/dev/null | grep -E 'cni-podman|podman0|netavark' || true
}

teardown() {
  [ "$DOWN_DONE" = 1 ] && return
  DOWN_DONE=1
  echo "--- lab-down"
  "$HERE/lab-down.sh"
}
trap 'rc=$?; teardown; exit $rc' EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ 0. lab-up
[ "$(id -u)" = 0 ] || { echo "must run as root"; exit 2; }
exec 9<"$0"; flock -w 600 9 || { echo "another selftest holds the lock"; exit 2; }
T_START=$(now_ms)
t0=$(now_ms)
env_lines=$("$HERE/lab-up.sh") || { fail "lab-up.sh"; exit 1; }
eval "$env_lines"
pass "lab-up in $(( $(now_ms) - t0 )) ms ($CONTAINERS_CONF)"
IMG=$CGSPAWN_PODMAN_IMAGE
FW_BEFORE=$(fw_state)

# ------------------------------------------------------------------ 1. run the image
out=$(podman run --rm --pull=never --cgroup-parent="$CGROOT/smoke" "$IMG" sh -c 'echo ok; cat /proc/self/cgroup' 2>&1)
if echo "$out" | grep -q '^ok' && echo "$out" | grep -q "^0::$CGROOT/smoke/libpod-"; then
  pass "run --rm --pull=never $IMG: own cgroup2 node under $CGROOT/smoke"
else fail "run --rm: $out"; fi
out=$(podman run --rm --cgroup-parent="$CGROOT/smoke" --rootfs "$CGSPAWN_PODMAN_ROOTFS:O" /bin/sh -c 'echo ok' 2>&1)
[ "$out" = ok ] && pass "run --rootfs DIR:O" || fail "run --rootfs: $out"
med=$(for _ in 1 2 3 4 5; do
  t0=$(now_ms); podman run --rm --pull=never --cgroup-parent="$CGROOT/smoke" "$IMG" /bin/true; echo $(( $(now_ms) - t0 ))
done | median)
info "podman run --rm IMG /bin/true: median $med ms (5 runs)"

# ------------------------------------------------------------------ 2. destroy 103 processes
if start cgspawn-test-destroy "$IMG" /bin/workload 100; then
  wait_for 5000 sh -c "[ \$(wc -l < $U$CG/cgroup.procs) -ge 103 ]"
  n=$(cg_pids "$CG" | wc -w)
  pass "started ${ID:0:12}: $n processes in $U$CG, conmon $CONMON"
  t0=$(now_ms); out=$(podman rm -f -t 0 "$ID" 2>&1); rc=$?; t_rm=$(( $(now_ms) - t0 ))
  if wait_for 3000 gone "$ID" "$CG" "$CONMON"; then
    pass "podman rm -f -t 0: rc $rc after $t_rm ms; verified gone (container, cgroup, conmon) at $(( $(now_ms) - t0 )) ms"
  else
    fail "rm -f -t 0 rc $rc [$out]: known=$(known "$ID" && echo y || echo n) pids=[$(cg_pids "$CG")] conmon=$(conmon_alive "$CONMON" "$ID" && echo alive || echo gone)"
  fi
  [ -d "$U$CG" ] && fail "cgroup2 node $U$CG still exists" || pass "cgroup2 node removed by podman"
else fail "could not start cgspawn-test-destroy"; fi

# ------------------------------------------------------------------ 3. runtime failure
FAILDIR=$(dirname "$CGSPAWN_PODMAN_FAIL_RUNTIME")
if start cgspawn-test-rtfail --runtime "$CGSPAWN_PODMAN_FAIL_RUNTIME" "$IMG" /bin/workload 3; then
  touch "$FAILDIR/FAIL_kill" "$FAILDIR/FAIL_delete"
  t0=$(now_ms); out=$(podman rm -f -t 0 "$ID" 2>&1); rc=$?; t_rm=$(( $(now_ms) - t0 ))
  sleep 0.3
  if [ "$rc" != 0 ] && populated "$CG"; then
    pass "injected runc kill+delete failure: podman rm rc $rc in $t_rm ms, processes alive [$(cg_pids "$CG")]: $(echo "$out" | tail -1)"
  else fail "rm with failing runtime: rc $rc populated=$(populated "$CG" && echo 1 || echo 0) [$out]"; fi
  rm -f "$FAILDIR"/FAIL_*
  t0=$(now_ms); echo 1 > "$U$CG/cgroup.kill"
  if wait_for 2000 sh -c "! grep -q '^populated 1' $U$CG/cgroup.events"; then
    pass "cgroup.kill on $U$CG emptied it in $(( $(now_ms) - t0 )) ms"
  else fail "cgroup.kill left [$(cg_pids "$CG")]"; fi
  wait_for 3000 sh -c "! tr '\0' ' ' < /proc/$CONMON/cmdline 2>/dev/null | grep -q -- '-c $ID'" \
    && pass "conmon $CONMON exited" || fail "conmon $CONMON still running"
  podman rm -f -t 0 "$ID" >/dev/null 2>&1
  wait_for 3000 gone "$ID" "$CG" "$CONMON" && pass "container forgotten after the failure" || fail "rtfail container still known"
else fail "could not start cgspawn-test-rtfail"; fi

# ------------------------------------------------------------------ 4. unkillable process
if start cgspawn-test-stuck "$IMG" /bin/workload 2; then
  stuck=$(pid_of_cmd "$CG" "sleep 10002")
  FRZ=$CGFS/freezer$CG/stuck                # v1 freezer child cgroup that runc does not own
  mkdir "$FRZ" && echo "$stuck" > "$FRZ/cgroup.procs" && echo FROZEN > "$FRZ/freezer.state"
  echo 1 > "$U$CG/cgroup.kill"; sleep 1
  state=$(awk '/^State:/ {print $2}' "/proc/$stuck/status" 2>/dev/null)
  if [ "$state" = D ] && populated "$CG"; then
    pass "pid $stuck frozen by v1 freezer survives cgroup.kill for 1 s (state D)"
  else fail "frozen pid $stuck: state '$state', cgroup pids [$(cg_pids "$CG")]"; fi
  t0=$(now_ms); out=$(podman rm -f -t 0 "$ID" 2>&1); rc=$?; t_rm=$(( $(now_ms) - t0 ))
  if [ "$rc" != 0 ] && [ -d "/proc/$stuck" ]; then
    pass "podman rm -f -t 0 on it: rc $rc after $t_rm ms: $(echo "$out" | tail -1)"
  else info "podman rm -f -t 0 on it: rc $rc after $t_rm ms, stuck pid alive=$([ -d /proc/$stuck ] && echo y || echo n)"; fi
  t0=$(now_ms); echo THAWED > "$FRZ/freezer.state"
  if wait_for 2000 sh -c "! grep -q '^populated 1' $U$CG/cgroup.events"; then
    pass "thaw: pending SIGKILL delivered, cgroup empty in $(( $(now_ms) - t0 )) ms"
  else fail "after thaw [$(cg_pids "$CG")]"; fi
  rmdir "$FRZ"
  podman rm -f -t 0 "$ID" >/dev/null 2>&1
  wait_for 3000 gone "$ID" "$CG" "$CONMON" && pass "stuck container gone after thaw" || fail "stuck container not gone"
else fail "could not start cgspawn-test-stuck"; fi

# ------------------------------------------------------------------ 5. lab-down, then nothing left
teardown && pass "lab-down.sh rc 0" || fail "lab-down.sh"
unset CONTAINERS_CONF                     # its file is gone; the checks below need only the defaults
left=$(podman ps -a --format '{{.ID}} {{.Names}} {{.Image}}' | grep -E "cgspawn-test|$IMG")
[ -z "$left" ] && pass "podman ps -a: no lab container" || fail "containers left: $left"
podman image exists "$IMG" && fail "image $IMG left" || pass "podman images: no $IMG"
dirs=$(ls -d "$CGFS"/*"$CGROOT" 2>/dev/null | tr '\n' ' ')
[ -z "$dirs" ] && pass "no $CGROOT cgroup dir in unified or v1 hierarchies" || fail "cgroup dirs left: $dirs"
procs=$(grep -l ":$CGROOT" /proc/[0-9]*/cgroup 2>/dev/null | tr '\n' ' ')
for id in "${IDS[@]}"; do procs+=$(pgrep -f -- "-c $id" | tr '\n' ' '); done
[ -z "$procs" ] && pass "no process in $CGROOT, no conmon of ours" || fail "processes left: $procs"
state=""; for id in "${IDS[@]}"; do [ -e "/run/runc/$id" ] || [ -e "/run/libpod/exits/$id" ] && state+="$id "; done
[ -z "$state" ] && pass "no runc state or exit file of our ${#IDS[@]} containers" || fail "runc/exit state left: $state"
[ -e "$CGSPAWN_PODMAN_LAB" ] && fail "lab dir $CGSPAWN_PODMAN_LAB left" || pass "lab dir removed"
FW_AFTER=$(fw_state)
if [ "$FW_AFTER" = "$FW_BEFORE" ] && ! echo "$FW_AFTER" | grep -qE 'CNI|NETAVARK|podman'; then
  pass "iptables chains and links unchanged, none from podman"
else fail "firewall changed: $(diff <(echo "$FW_BEFORE") <(echo "$FW_AFTER") | tr '\n' ' ')"; fi

echo "== $FAILS failure(s) in $(( $(now_ms) - T_START )) ms"
[ "$FAILS" = 0 ]
