#!/bin/bash
# SPDX-License-Identifier: MIT
# lab-down.sh N - stop fake remote N and remove everything lab-up.sh N made. Idempotent: safe to run
# any number of times, also after a half-failed lab-up. Exits 1 if something could not be removed.
#   mux master and other ssh clients using $CGSPAWN_LAB/rN/ssh_config, every process of the remote,
#   its cgroup subtree, netns (with its nft fault table), veth pair, root-netns nft guard table,
#   guard route, lab dir rN (and the lab dir itself once empty), and the state the remote's
#   non-root login's agent keeps in the shared /tmp (/tmp/cgspawn-agent-<2700+N>, if its own).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
lab_names "${1:-}"
case $LAB in /?*) ;; *) die "CGSPAWN_LAB must be an absolute path";; esac

# kill_pids PID...: SIGCONT (undo fault.sh freeze) then SIGKILL, each by its PID.
kill_pids() {
  local p
  for p in "$@"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  return 0
}

stop_clients() {
  if [ -f "$D/ssh_config" ] && [ -n "$(client_pids)" ]; then
    timeout 5 ssh -F "$D/ssh_config" -O exit "$ALIAS" >/dev/null 2>&1
  fi
  local _
  for _ in 1 2 3; do
    [ -n "$(client_pids)" ] || break
    # shellcheck disable=SC2046  # one pid per word
    kill_pids $(client_pids)
    sleep 0.1
  done
}

stop_remote() {
  local _
  for _ in 1 2 3 4 5; do
    [ -n "$(remote_pids)" ] || break
    # shellcheck disable=SC2046  # one pid per word
    kill_pids $(remote_pids)
    sleep 0.2
  done
  # backstop: the whole subtree at once (also catches a process forked during the loop)
  [ -e "$CG/cgroup.kill" ] && echo 1 > "$CG/cgroup.kill" 2>/dev/null
  local _
  for _ in $(seq 50); do
    grep -q '^populated 1' "$CG/cgroup.events" 2>/dev/null || break
    sleep 0.1
  done
}

remove_cgroup() {
  [ -d "$CG" ] || return 0
  find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
  return 0
}

remove_network() {
  # deleting the netns destroys its veth end, which destroys the pair, and its nft fault table
  [ -e "/run/netns/$NS" ] && ip netns del "$NS" 2>/dev/null
  local _
  for _ in $(seq 20); do          # the pair goes away asynchronously once the netns is freed
    ip link show "$VETH_H" >/dev/null 2>&1 || break
    sleep 0.05
  done
  ip link del "$VETH_H" 2>/dev/null      # half-failed lab-up: pair still in the root netns
  ip link del "$VETH_R" 2>/dev/null
  nft delete table inet "$GUARD_TABLE" 2>/dev/null
  # the guard route goes last, once no lab link can exist any more
  while ip route del unreachable "$SUBNET" metric 4000 2>/dev/null; do :; done
  return 0
}

# what the remote's non-root login left in the /tmp it shares with this host (its agent's
# state): only a directory of that login's own (what else has the name is reported, not removed)
remove_user_files() {
  local dir
  for dir in "$LAB_USER_AGENT_DIR" "$LAB_USER_AGENT_DIR.target"; do  # .target: a test's link's
    [ -n "$(find "$dir" -prune -type d -user "$LAB_UID" 2>/dev/null)" ] && rm -rf -- "$dir"
  done
  return 0
}

remove_lab_dir() {
  if [ -f "$D/.cgspawn-testlab" ]; then
    rm -rf -- "$D"
  elif [ -d "$D" ]; then
    rmdir -- "$D" 2>/dev/null || log "warning: $D has no lab marker; not removed"
  fi
  rmdir -- "$LAB" 2>/dev/null        # only once no other remote uses it
  return 0
}

# leftovers: print what of remote N still exists (empty output = clean)
leftovers() {
  local p
  [ -e "/run/netns/$NS" ] && echo "netns $NS"
  ip link show "$VETH_H" >/dev/null 2>&1 && echo "link $VETH_H"
  ip link show "$VETH_R" >/dev/null 2>&1 && echo "link $VETH_R"
  ip route show "$SUBNET" | grep -q . && echo "route $SUBNET"
  nft list table inet "$GUARD_TABLE" >/dev/null 2>&1 && echo "nft table $GUARD_TABLE"
  [ -e "$CG" ] && echo "cgroup $CG"
  for p in $(remote_pids) $(client_pids); do
    grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || echo "process $p"
  done
  [ -e "$D" ] && echo "dir $D"
  for p in "$LAB_USER_AGENT_DIR" "$LAB_USER_AGENT_DIR.target"; do
    [ -e "$p" ] || [ -L "$p" ] && echo "$p (not the remote's login's: rm -rf $p)"
  done
  return 0
}

stop_clients
stop_remote
remove_cgroup
remove_network
remove_user_files
remove_lab_dir
left=$(leftovers)
[ -z "$left" ] || { log "remote $N: left behind: $(echo "$left" | tr '\n' ' ')"; exit 1; }
exit 0
