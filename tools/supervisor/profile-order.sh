#!/bin/bash
# SPDX-License-Identifier: MIT
# Writes tools/supervisor/hot.order: the functions a supervisor runs, which its link places
# first and together (tools/meson.build). Every page of program text a process touches stays
# in its RSS, and the kernel maps the pages around each one it faults in: with the functions a
# supervisor runs spread over all of its text, nearly all of it was resident (1.6 of 1.7 MB).
#
# How: a uprobe on every function of a copy of each build's supervisor, counting hits while
# that copy supervises the lives of process-backend tasks a test runner has (a task destroyed
# while it runs, one that times out, one that ends by itself with a code, one with a scratch
# directory, labels and a bound pid), and the ledger's lineage server. The functions hit, in
# the order of their addresses, become the file; with several builds (-O1 unity, -O2, release
# have different sets of functions), the union, the first build's first.
#
# Run it after changes to what a supervisor runs; the bench that shows the need is
# bench/bench_ledger.sh [2] (the supervisor's VmHWM). Needs root and tracefs, and a few minutes
# per build (a probe hit is a trap; the lineage server's are hit by every fork on the host). It
# adds only its own probes (on its own copies) and removes them, with all it makes, on exit.
# Usage: tools/supervisor/profile-order.sh BUILD_DIR...
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "profile-order: needs root (uprobes, cgroups)" >&2; exit 2; }
tracefs=/sys/kernel/tracing
[ -w $tracefs/uprobe_events ] || { echo "profile-order: no tracefs at $tracefs" >&2; exit 2; }
out=$(cd "$(dirname "$0")" && pwd)/hot.order
mount=/sys/fs/cgroup/unified; [ -f $mount/cgroup.procs ] || mount=/sys/fs/cgroup
work=$(mktemp -d /tmp/cgspawn-order-XXXXXX)
group=cgspawn_order_$$
cgspawn=""
parent=$mount/cgspawn-order-$$
mkdir "$parent"

# One command per write: the kernel takes a command only whole within one write.
write_commands() { while read -r c; do printf '%s\n' "$c"; done >> $tracefs/uprobe_events; }
remove_probes() {
  [ -d $tracefs/events/$group ] || return 0
  echo 0 > $tracefs/events/$group/enable
  echo "-:$group/" >> $tracefs/uprobe_events  # the whole group
}
cleanup() {
  set +e
  remove_probes
  for d in "$work"/ledger-*; do
    [ -d "$d" ] && [ -n "$cgspawn" ] && CGSPAWN_STATE_DIR=$d "$cgspawn" reap --orphans --grace 0 >/dev/null 2>&1
  done
  [ -e "$parent/cgroup.kill" ] && echo 1 > "$parent/cgroup.kill"
  for d in "$parent"/*/; do [ -d "$d" ] && rmdir "$d"; done
  rmdir "$parent"
  rm -rf "$work"
}
trap cleanup EXIT

# The lives of process-backend tasks, under the supervisor $1 (the ledger's lineage server is
# started from it too). Each task ends before the next starts.
supervise() {
  local ledger=$work/ledger-$2
  mkdir -m 700 "$ledger"
  export CGSPAWN_STATE_DIR=$ledger CGSPAWN_PARENT=$parent CGSPAWN_SUPERVISOR=$1
  "$cgspawn" start --id running -- /bin/sleep 100 >/dev/null
  sleep 0.3
  "$cgspawn" status running >/dev/null
  "$cgspawn" destroy running --grace 1s >/dev/null
  "$cgspawn" start --id timeout --timeout 300ms -- /bin/sleep 100 >/dev/null
  "$cgspawn" wait timeout >/dev/null 2>&1 || true
  "$cgspawn" start --id code -- /bin/sh -c 'sleep 0.2; exit 3' >/dev/null
  "$cgspawn" wait code >/dev/null 2>&1 || true
  # shellcheck disable=SC2016  # the task's shell expands it
  "$cgspawn" start --id scratch --scratch --label suite=order --bind-pid $$ \
    -- /bin/sh -c 'echo data > "$CGSPAWN_SCRATCH/f"; sleep 0.2' >/dev/null
  "$cgspawn" wait scratch >/dev/null 2>&1 || true
  "$cgspawn" destroy --label suite=order >/dev/null 2>&1 || true
  unset CGSPAWN_STATE_DIR CGSPAWN_PARENT CGSPAWN_SUPERVISOR
}

# Prints a probe per function of program $1, named by its address. A probe is placed at a
# file offset: the text segment maps the file at an address that differs from the offset by
# the segment's delta (0 in GNU ld's layout, not in lld's).
probes_for() {
  local vaddr off address
  read -r off vaddr < <(readelf -lW "$1" | awk '$1 == "LOAD" && / E / { print $2, $3 }')
  nm --defined-only "$1" | awk '$2 ~ /^[tTwW]$/ { print $1 }' | sort -u | while read -r address; do
    printf 'p:%s/f%s %s:0x%x\n' "$group" "$address" "$1" $((0x$address - vaddr + off))
  done
}

# Prints the names of the functions of copy $1 that were hit, in the order of their addresses.
hit_functions() {
  awk -v f="$1" '$1 == f && $3 > 0 { sub("^f", "", $2); print $2 }' $tracefs/uprobe_profile | sort > "$work/hit"
  nm --defined-only "$1" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' | sort -k1,1 |
    join - "$work/hit" | cut -d' ' -f2
}

: > "$work/order"
for build in "$@"; do
  cgspawn=$(realpath "$build/tools/cgspawn")
  copy=$work/supervisor-$(basename "$build")
  cp "$build/tools/cgspawn-supervisor" "$copy"
  probes_for "$copy" > "$work/probes"
  write_commands < "$work/probes"
  echo 1 > $tracefs/events/$group/enable
  supervise "$copy" "$(basename "$build")"
  hit_functions "$copy" > "$work/hit-names"
  remove_probes
  [ -s "$work/hit-names" ] || { echo "profile-order: $build: no function hit" >&2; exit 1; }
  echo "profile-order: $build: $(wc -l < "$work/hit-names") functions hit" >&2
  cat "$work/hit-names" >> "$work/order"
done
{
  echo "# The functions a process-backend supervisor runs, placed first by its link."
  echo "# Made by tools/supervisor/profile-order.sh; do not edit by hand."
  awk '!seen[$0]++' "$work/order"
} > "$out"
echo "profile-order: $(grep -vc '^#' "$out") names in $out" >&2
