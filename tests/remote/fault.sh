#!/bin/bash
# SPDX-License-Identifier: MIT
# fault.sh N ACTION - inject or remove a fault of fake remote N. Only ever touches the remote's own
# netns (cgspawn-testlab-rN), its veth pair (cgtlNh/cgtlNr) and its processes (its cgroup subtree).
#
#   drop     drop every packet in the remote's netns, both ways (host vanishes: no RST, no ICMP)
#   reject   answer every TCP packet to the remote with a RST (host up, nothing listening)
#   undrop   remove drop/reject
#   freeze   SIGSTOP every process of the remote (hung host; its kernel still ACKs TCP)
#   thaw     SIGCONT every process of the remote
#   crash    remote "reboots" under live connections: drop, SIGKILL every process but the listener,
#            destroy the orphaned server sockets (ss -K), undrop; the next client packet gets a RST
#   linkdown take the host-side veth down (refused unless both guards are in place)
#   linkup   bring it back up
#   cut      take the remote-side veth down ("cable cut": host side NO-CARRIER, route kept)
#   uncut    bring it back up
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
lab_names "${1:-}"
ACTION=${2:-}
[ -e "/run/netns/$NS" ] || die "remote $N is not up (no netns $NS)"

in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }

nft_fault() {           # nft_fault RULES...: (re)load the fault table inside the remote's netns
  in_ns nft delete table inet "$FAULT_TABLE" 2>/dev/null || true
  in_ns nft -f - <<EOF
table inet $FAULT_TABLE {
$*
}
EOF
}

drop() {
  nft_fault '  chain in  { type filter hook input  priority 0; policy drop; }
  chain out { type filter hook output priority 0; policy drop; }'
}

reject() {
  nft_fault '  chain in  { type filter hook input priority 0; ip protocol tcp reject with tcp reset; }'
}

undrop() { in_ns nft delete table inet "$FAULT_TABLE" 2>/dev/null || true; }

signal_all() {          # signal_all SIG: every process of the remote, by PID
  local p
  for p in $(remote_pids); do kill "-$1" "$p" 2>/dev/null || true; done
}

crash() {
  local listener launcher p
  listener=$(listener_pid) || die "listener of r$N not found"
  launcher=$(cat "$D/launch.pid" 2>/dev/null || echo none)  # unshare's parent with REMOTE_PIDNS=1
  drop
  for p in $(remote_pids); do
    [ "$p" = "$listener" ] || [ "$p" = "$launcher" ] || kill -KILL "$p" 2>/dev/null || true
  done
  sleep 0.3
  in_ns ss -K -tn exclude listening "( sport = :$PORT )" >/dev/null
  undrop
}

guards_present() {
  ip route show "$SUBNET" | grep -q '^unreachable .*metric 4000' || return 1
  nft list table inet "$GUARD_TABLE" >/dev/null 2>&1
}

linkdown() {
  guards_present || die "guard route/nft table of r$N missing: refusing to take $VETH_H down"
  ip link set "$VETH_H" down
}

case $ACTION in
  drop) drop;;
  reject) reject;;
  undrop) undrop;;
  freeze) signal_all STOP;;
  thaw) signal_all CONT;;
  crash) crash;;
  linkdown) linkdown;;
  linkup) ip link set "$VETH_H" up;;
  cut) ip -n "$NS" link set "$VETH_R" down;;
  uncut) ip -n "$NS" link set "$VETH_R" up;;
  *) die "unknown action '$ACTION' (drop reject undrop freeze thaw crash linkdown linkup cut uncut)";;
esac
