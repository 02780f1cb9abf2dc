#!/bin/bash
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016  # check ... eval '...': the condition is expanded when check runs it
# selftest.sh [N1 [N2]] - self-test of the fake-remote test bed.
#   Brings up remote N1 (default 1; bash, shared PID ns) and, at the same time, remote N2 (default 2;
#   REMOTE_PIDNS=1 REMOTE_SHELL=/bin/dash REMOTE_PRIVATE_DIRS=/var/tmp), checks each of them, tears
#   both down and checks that nothing of them is left. Exit 0 only if every check passed.
#   Two self-tests may run at once with distinct numbers: selftest.sh 1 2 & selftest.sh 3 4
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
N1=${1:-1}
N2=${2:-2}
[ "$N1" != "$N2" ] || die "N1 and N2 must differ"

FAILS=0
PASSES=0
ok()  { echo "ok   - $*"; PASSES=$((PASSES + 1)); }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { local msg=$1; shift; if "$@"; then ok "$msg"; else bad "$msg"; return 1; fi; }
now_ms() { date +%s%3N; }

T=$(mktemp -d /tmp/cgspawn-testlab-selftest.XXXXXX)
cleanup() {
  local p
  for p in $(jobs -p); do kill -KILL "$p" 2>/dev/null; done      # our own background ssh clients
  "$HERE/lab-down.sh" "$N1" >/dev/null 2>&1
  "$HERE/lab-down.sh" "$N2" >/dev/null 2>&1
  rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# rssh N ARGS...: ssh to remote N with its lab config
rssh() { local n=$1; shift; ssh -F "$LAB/r$n/ssh_config" -n "$@"; }

# shq WORD...: POSIX single-quote each word (' -> '\''), joined by spaces: one remote command string
shq() { local a out=; for a in "$@"; do out+="'${a//\'/\'\\\'\'}' "; done; printf '%s' "${out% }"; }

# host_mount_state: the host mounts our remotes could disturb, if their mount namespaces leaked
host_mount_state() {
  local m
  grep -v ' /run/netns/' /proc/1/mountinfo | grep -c 'cgspawn-testlab'    # (ip netns mounts its nsfs)
  for m in /run /var/log /var/tmp /etc/passwd /root/.bashrc /run/sshd "$(cgroup2_root)"; do
    echo "$m $(mountpoint -q "$m" && echo mnt || echo -) $(findmnt -n -o FSTYPE,SOURCE --target "$m" 2>/dev/null)"
  done
}

# ---- bring up ---------------------------------------------------------------------------------
up_both() {
  local t0 rc1 rc2 p1 p2
  t0=$(now_ms)
  "$HERE/lab-up.sh" "$N1" > "$T/up1.out" 2> "$T/up1.err" & p1=$!
  REMOTE_PIDNS=1 REMOTE_SHELL=/bin/dash REMOTE_PRIVATE_DIRS=/var/tmp \
    "$HERE/lab-up.sh" "$N2" > "$T/up2.out" 2> "$T/up2.err" & p2=$!
  wait $p1; rc1=$?
  wait $p2; rc2=$?
  if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "$(cat "$T/up1.out")" = "$LAB/r$N1/ssh_config" ]; then
    ok "lab-up r$N1 and r$N2 in parallel: $(( $(now_ms) - t0 )) ms"
  else
    bad "lab-up: rc=$rc1/$rc2 $(cat "$T/up1.err" "$T/up2.err")"
    exit 1
  fi
}

# ---- checks of one remote ----------------------------------------------------------------------
check_basics() {       # check_basics N SHELL PIDNS
  local n=$1 sh=$2 pidns=$3 out t0 ms
  t0=$(now_ms)
  out=$(rssh "$n" -- "r$n" hostname 2>&1)
  ms=$(( $(now_ms) - t0 ))
  check "r$n: ssh works, hostname=$out (${ms} ms fresh connection)" [ "$out" = "remote$n" ]
  out=$(rssh "$n" -- "r$n" 'readlink /proc/$$/exe; tail -1 /proc/self/cgroup; cat /proc/1/comm; touch /run/selftest-probe; ls -d /run/sshd' 2>&1)
  check "r$n: login shell is $sh" [ "$(sed -n 1p <<<"$out")" = "$sh" ]
  check "r$n: cgroup namespace shows the remote its own root (0::/sshd)" [ "$(sed -n 2p <<<"$out")" = "0::/sshd" ]
  if [ "$pidns" = 1 ]; then
    check "r$n: own PID namespace, sshd is its PID 1" [ "$(sed -n 3p <<<"$out")" = sshd ]
  else
    check "r$n: shares the host PID namespace" [ "$(sed -n 3p <<<"$out")" != sshd ]
  fi
  check "r$n: private /run (has /run/sshd; its files invisible on the host)" \
    eval '[ "$(sed -n 4p <<<"$out")" = /run/sshd ] && [ ! -e /run/selftest-probe ]'
  check "r$n: every remote process is in host cgroup $NAME_PREFIX-r$n/sshd" \
    eval '[ -z "$(cat "$(cgroup2_root)/$NAME_PREFIX-r$n/cgroup.procs")" ] && [ -n "$(cat "$(cgroup2_root)/$NAME_PREFIX-r$n/sshd/cgroup.procs")" ]'
}

check_argv() {         # check_argv N: byte-exact argv round trip of hostile words, no injection
  local n=$1 l r
  local ARGV=( 'a b' "it's" 'say "hi"' '$(touch '"$T"'/PWNED1)' '`touch '"$T"'/PWNED2`' $'line1\nline2'
               '-n' '' '*' 'back\slash' ';' '|' '&&' '~' '!' $'tab\there' $'ends-with-newline\n' 'ünï'
               '--' '$HOME' '%s' "'" "''" "a'b'c" '\' )
  l=$(printf '%s\0' "${ARGV[@]}" | sha256sum)
  r=$(rssh "$n" -- "r$n" "exec $(shq printf '%s\0' "${ARGV[@]}")" | sha256sum)
  check "r$n: argv round trip of ${#ARGV[@]} hostile words is byte-exact" [ "$l" = "$r" ]
  check "r$n: no command injection on the remote" eval '! ls "$T"/PWNED* >/dev/null 2>&1'
}

check_drop() {         # check_drop N: a silent drop is noticed through ServerAlive 1 s x 2
  local n=$1 sp t0 ms rc
  rssh "$n" -S none -o ServerAliveInterval=1 -o ServerAliveCountMax=2 -o LogLevel=INFO -- "r$n" 'sleep 60' \
    >/dev/null 2>"$T/drop.err" & sp=$!
  sleep 1
  "$HERE/fault.sh" "$n" drop
  t0=$(now_ms)
  while kill -0 $sp 2>/dev/null && [ $(( $(now_ms) - t0 )) -lt 15000 ]; do sleep 0.05; done
  kill -KILL $sp 2>/dev/null
  wait $sp; rc=$?
  ms=$(( $(now_ms) - t0 ))
  # detection comes between CountMax x Interval and (CountMax+1) x Interval after the last reply
  check "r$n: drop noticed after $ms ms (bound 3000 ms + 1000 ms slack), rc=$rc: $(tr '\n' ' ' < "$T/drop.err")" \
    eval '[ $rc = 255 ] && grep -q "not responding" "$T/drop.err" && [ $ms -ge 1000 ] && [ $ms -le 4000 ]'
  t0=$(now_ms)
  rssh "$n" -S none -o ConnectTimeout=2 -- "r$n" true 2>"$T/conn.err"; rc=$?
  check "r$n: new connection during drop fails: rc=$rc after $(( $(now_ms) - t0 )) ms: $(cat "$T/conn.err")" [ $rc = 255 ]
  "$HERE/fault.sh" "$n" undrop
  check "r$n: ssh works again after undrop" eval '[ "$(rssh "$n" -- "r$n" hostname)" = "remote$n" ]'
}

# states N: the distinct process states of remote N (from /proc of its host PIDs)
states() {
  local p
  for p in $(cat "$(cgroup2_root)/$NAME_PREFIX-r$1/sshd/cgroup.procs"); do
    awk '/^State:/ { print $2 }' "/proc/$p/status" 2>/dev/null
  done | sort -u | tr '\n' ' '
}

check_freeze() {       # check_freeze N: SIGSTOP/SIGCONT of every remote process
  local n=$1 rc t0
  "$HERE/fault.sh" "$n" freeze
  check "r$n: freeze stopped every remote process (states: $(states "$n"))" [ "$(states "$n")" = "T " ]
  t0=$(now_ms)
  rssh "$n" -S none -o ConnectTimeout=2 -- "r$n" true 2>"$T/conn.err"; rc=$?
  check "r$n: frozen remote: rc=$rc after $(( $(now_ms) - t0 )) ms: $(tr '\n' ' ' < "$T/conn.err")" [ $rc = 255 ]
  "$HERE/fault.sh" "$n" thaw
  check "r$n: thaw resumed them (states: $(states "$n"))" eval '! states "$n" | grep -q T'
  check "r$n: ssh works again after thaw" eval '[ "$(rssh "$n" -- "r$n" hostname)" = "remote$n" ]'
}

check_other_faults() { # reject, linkdown, cut, crash
  local n=$1 rc t0 sp route
  "$HERE/fault.sh" "$n" reject
  rssh "$n" -S none -- "r$n" true 2>"$T/conn.err"; rc=$?
  check "r$n: reject: rc=$rc $(cat "$T/conn.err")" eval '[ $rc = 255 ] && grep -q refused "$T/conn.err"'
  "$HERE/fault.sh" "$n" undrop

  "$HERE/fault.sh" "$n" linkdown
  route=$(ip route get "10.200.$n.2" 2>&1)
  check "r$n: linkdown: the guard route catches lab traffic ($route)" \
    eval '! grep -q "dev eth\|via" <<<"$route" && grep -q -i "unreachable\|no route" <<<"$route"'
  rssh "$n" -S none -- "r$n" true 2>"$T/conn.err"; rc=$?
  check "r$n: linkdown: rc=$rc $(cat "$T/conn.err")" eval '[ $rc = 255 ] && grep -q "No route" "$T/conn.err"'
  "$HERE/fault.sh" "$n" linkup
  check "r$n: ssh works again after linkup" eval '[ "$(rssh "$n" -- "r$n" hostname)" = "remote$n" ]'

  "$HERE/fault.sh" "$n" cut
  t0=$(now_ms)
  rssh "$n" -S none -o ConnectTimeout=2 -- "r$n" true 2>"$T/conn.err"; rc=$?
  check "r$n: cut: rc=$rc after $(( $(now_ms) - t0 )) ms: $(cat "$T/conn.err")" [ $rc = 255 ]
  "$HERE/fault.sh" "$n" uncut
  check "r$n: ssh works again after uncut" eval '[ "$(rssh "$n" -- "r$n" hostname)" = "remote$n" ]'

  rssh "$n" -S none -o ServerAliveInterval=1 -o ServerAliveCountMax=2 -- "r$n" 'sleep 60' \
    >/dev/null 2>"$T/crash.err" & sp=$!
  sleep 1
  t0=$(now_ms)
  "$HERE/fault.sh" "$n" crash
  while kill -0 $sp 2>/dev/null && [ $(( $(now_ms) - t0 )) -lt 10000 ]; do sleep 0.05; done
  kill -KILL $sp 2>/dev/null
  wait $sp; rc=$?
  check "r$n: crash ends the live session: rc=$rc after $(( $(now_ms) - t0 )) ms: $(tr '\n' ' ' < "$T/crash.err")" [ $rc = 255 ]
  check "r$n: ssh works again after crash (listener kept)" eval '[ "$(rssh "$n" -- "r$n" hostname)" = "remote$n" ]'
}

check_guard_counter() { # nothing for the lab subnet ever tried to leave by another interface
  local n=$1 c
  c=$(nft list table inet "cgspawn_testlab_r$n" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
  check "r$n: nft guard counted $c packets leaving by a non-lab interface" [ "$c" = 0 ]
}

# ---- teardown and leftovers --------------------------------------------------------------------
# leftovers N LISTENER: every trace of remote N that still exists (empty = clean)
leftovers() {
  local n=$1 listener=$2 p
  ip netns list | grep -qw "$NAME_PREFIX-r$n" && echo "netns"
  ip link show | grep -q "cgtl${n}[hr]" && echo "link"
  ip route show table all | grep -q "10\.200\.$n\." && echo "route"
  nft list tables | grep -qw "cgspawn_testlab_r$n" && echo "nft-table"
  [ -e "$(cgroup2_root)/$NAME_PREFIX-r$n" ] && echo "cgroup"
  [ -e "$LAB/r$n" ] && echo "lab-dir"
  for p in $listener $(pgrep -f "$LAB/r$n/"); do
    grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || { [ -e "/proc/$p" ] && echo "pid:$p"; }
  done
  return 0
}

check_down() {
  local l1 l2 t0 ms rc left
  l1=$(cat "$LAB/r$N1/listener.pid")
  l2=$(cat "$LAB/r$N2/listener.pid")
  t0=$(now_ms)
  "$HERE/lab-down.sh" "$N1" && "$HERE/lab-down.sh" "$N2"; rc=$?
  ms=$(( $(now_ms) - t0 ))
  check "lab-down r$N1 r$N2: rc=$rc in $ms ms" [ $rc = 0 ]
  left=$(leftovers "$N1" "$l1"; leftovers "$N2" "$l2")
  check "nothing left of r$N1 r$N2 (netns, links, routes, nft, cgroups, processes, lab dirs)${left:+: $(echo "$left" | tr '\n' ' ')}" [ -z "$left" ]
  "$HERE/lab-down.sh" "$N1" && "$HERE/lab-down.sh" "$N2"; rc=$?
  check "lab-down is idempotent (second run rc=$rc)" [ $rc = 0 ]
}

main() {
  local m0
  m0=$(host_mount_state)
  up_both
  check "host mount table unchanged while the remotes run" [ "$(host_mount_state)" = "$m0" ] ||
    diff <(echo "$m0") <(host_mount_state)
  check_basics "$N1" /usr/bin/bash 0
  check_basics "$N2" /usr/bin/dash 1
  check "r$N2: REMOTE_PRIVATE_DIRS=/var/tmp is private" \
    eval 'rssh "$N2" -- "r$N2" "touch /var/tmp/cgspawn-selftest-probe" && [ ! -e /var/tmp/cgspawn-selftest-probe ]'
  check_argv "$N1"
  check_argv "$N2"
  check_drop "$N1"
  check_drop "$N2"
  check_freeze "$N1"
  check_freeze "$N2"
  check_other_faults "$N1"
  check_other_faults "$N2"
  check_guard_counter "$N1"
  check_guard_counter "$N2"
  check_down
  check "host mount table unchanged after teardown" [ "$(host_mount_state)" = "$m0" ]
  echo "selftest: $PASSES passed, $FAILS failed"
  [ "$FAILS" = 0 ]
}
main
