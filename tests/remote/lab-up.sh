#!/bin/bash
# SPDX-License-Identifier: MIT
# lab-up.sh N - start fake remote host N (1..250) for cgspawn's remote backend tests.
#
# Prints the client config path on stdout (progress goes to stderr); then:
#     ssh -F "$CGSPAWN_LAB/rN/ssh_config" rN CMD
# Environment:
#   CGSPAWN_LAB          lab dir, outside the checkout (default /run/cgspawn-testlab)
#   PORT                 sshd port (default 2222)
#   REMOTE_CGNS=1|0      give the remote a cgroup namespace + its own cgroup2 mount (default 1)
#   REMOTE_PIDNS=0|1     give the remote a PID namespace, sshd is its PID 1 (default 0)
#   REMOTE_SHELL=PATH    root's login shell on the remote (its private copy of /etc/passwd, which
#                        also has a non-root login, cglab, uid 2700+N, home $CGSPAWN_LAB/rN/home)
#   REMOTE_BASHRC=empty|host|PATH   the remote's /root/.bashrc (default empty: hides the host's rc)
#   REMOTE_PRIVATE_DIRS="DIR ..."   existing dirs that get an empty private tmpfs on the remote
#   REMOTE_CGSPAWN=PATH  a cgspawn binary "installed" on the remote as /usr/local/bin/cgspawn
#                        (the remote's /usr/local/bin is always private: the host's is hidden)
# On any failure it tears down what it made (lab-down.sh N) and exits non-zero.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

lab_names "${1:-}"
CGNS=${REMOTE_CGNS:-1}
PIDNS=${REMOTE_PIDNS:-0}

# ---- checks before touching anything ----------------------------------------------------------
preflight() {
  check_lab_dir
  [ -n "$CG2" ] || die "no cgroup2 mount found"
  case $PORT in ''|*[!0-9]*) die "PORT must be a number";; esac
  case $CGNS$PIDNS in [01][01]) ;; *) die "REMOTE_CGNS and REMOTE_PIDNS must be 0 or 1";; esac
  if [ -n "${REMOTE_CGSPAWN:-}" ]; then
    case $REMOTE_CGSPAWN in /?*) ;; *) die "REMOTE_CGSPAWN must be an absolute path";; esac
    [ -x "$REMOTE_CGSPAWN" ] || die "REMOTE_CGSPAWN $REMOTE_CGSPAWN is not executable"
  fi
  if [ -n "${REMOTE_SHELL:-}" ]; then [ -x "$REMOTE_SHELL" ] || die "REMOTE_SHELL $REMOTE_SHELL is not executable"; fi
  ! getent passwd "$LAB_UID" >/dev/null || die "uid $LAB_UID (the remote's non-root login) is in use on this host"
  local dir
  for dir in ${REMOTE_PRIVATE_DIRS:-}; do
    case $dir in /?*) ;; *) die "REMOTE_PRIVATE_DIRS: '$dir' is not absolute";; esac
    [ -d "$dir" ] || die "REMOTE_PRIVATE_DIRS: $dir is not an existing dir"
    case $dir in /|/proc*|/sys*|/dev*|/usr*|/etc|/bin|/sbin|/lib*) die "REMOTE_PRIVATE_DIRS: refusing $dir";; esac
  done
  if [ -e "/run/netns/$NS" ] || [ -e "$CG" ] || [ -e "$D" ] || [ -e "$LAB_USER_AGENT_DIR" ] || [ -L "$LAB_USER_AGENT_DIR" ] || [ -e "$LAB_USER_AGENT_DIR.target" ] ||
     ip link show "$VETH_H" >/dev/null 2>&1 || ip link show "$VETH_R" >/dev/null 2>&1 ||
     nft list table inet "$GUARD_TABLE" >/dev/null 2>&1; then
    die "leftovers of remote $N exist; run lab-down.sh $N first"
  fi
  # the subnet must be unused here: no route other than the default may match it
  if ip route show match "$REM_IP" | grep -qv '^default '; then
    die "$SUBNET is already routed on this host: $(ip route show match "$REM_IP" | grep -v '^default ' | head -1)"
  fi
}

# ---- network: guards first, then the namespace and the veth pair --------------------------------
make_network() {
  # Guard 1: while the host-side veth is down its connected route vanishes; without this route
  # 10.200.N.x would follow the default route out of eth0. Added before anything else.
  ip route add unreachable "$SUBNET" metric 4000
  # Guard 2: whatever the routes say, nothing for the lab subnet may leave by another interface.
  nft -f - <<EOF
table inet $GUARD_TABLE {
  chain guard {
    type filter hook postrouting priority 0; policy accept;
    ip daddr $SUBNET oifname != "$VETH_H" counter drop
  }
}
EOF
  # the first "ip netns add" on a machine creates the /run/netns mount: serialise parallel lab-ups
  flock "$LAB" ip netns add "$NS"
  ip link add "$VETH_H" type veth peer name "$VETH_R"
  ip link set "$VETH_R" netns "$NS"
  ipv6_off "$VETH_H"
  ip addr add "$HOST_IP/24" dev "$VETH_H"
  ip link set "$VETH_H" up
  nsenter --net="/run/netns/$NS" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$VETH_R/disable_ipv6" 2>/dev/null || true
  ip -n "$NS" link set lo up
  ip -n "$NS" addr add "$REM_IP/24" dev "$VETH_R"
  ip -n "$NS" link set "$VETH_R" up          # no default route in the remote: it reaches only its /24
}

# ipv6_off IF: no link-local IPv6 chatter on the lab link (IPv4 only).
ipv6_off() {
  [ -w "/proc/sys/net/ipv6/conf/$1/disable_ipv6" ] && echo 1 > "/proc/sys/net/ipv6/conf/$1/disable_ipv6"
  return 0
}

# ---- keys and configs (fresh for every lab-up) ----------------------------------------------------
make_keys() {
  ssh-keygen -q -t ed25519 -N '' -C "cgspawn-testlab-r$N-host" -f "$D/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C "cgspawn-testlab-r$N-client" -f "$D/id_ed25519"
  cp "$D/id_ed25519.pub" "$D/authorized_keys"
  chmod 644 "$D/authorized_keys"  # sshd reads it as the login: the non-root one too
  printf '[%s]:%s %s\n' "$REM_IP" "$PORT" "$(cut -d' ' -f1,2 "$D/ssh_host_ed25519_key.pub")" > "$D/known_hosts"
}

write_sshd_config() {
  cat > "$D/sshd_config" <<EOF
# private sshd of fake remote r$N (cgspawn tests/remote); /etc/ssh is never read (-f)
ListenAddress $REM_IP
Port $PORT
HostKey $D/ssh_host_ed25519_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
# the lab dir may be put below a world-writable dir (CGSPAWN_LAB=/tmp/...)
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
PermitTunnel no
PermitUserEnvironment no
MaxStartups 100:30:200
MaxSessions 10
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
}

write_ssh_config() {
  cat > "$D/ssh_config" <<EOF
# client config for fake remote r$N (cgspawn tests/remote): ssh -F $D/ssh_config r$N CMD
# -F replaces ~/.ssh/config and /etc/ssh/ssh_config completely.
Host r$N
  HostName $REM_IP
  Port $PORT
  User root
  IdentityFile $D/id_ed25519
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $D/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  CheckHostIP no
  UpdateHostKeys no
  BatchMode yes
  ConnectTimeout 5
  ServerAliveInterval 2
  ServerAliveCountMax 3
  ForwardAgent no
  ForwardX11 no
  ControlMaster no
  ControlPath $D/mux-%C
  LogLevel INFO
EOF
}

# ---- the remote's own files ------------------------------------------------------------------------
# prints the bashrc overlay path ("" = keep the host's)
bashrc_overlay() {
  local rc=${REMOTE_BASHRC:-empty}
  [ -e /root/.bashrc ] || { echo; return; }
  case $rc in
    empty) : > "$D/bashrc"; echo "$D/bashrc";;
    host) echo;;
    *) [ -f "$rc" ] || die "REMOTE_BASHRC $rc is not a file"; cp "$rc" "$D/bashrc"; echo "$D/bashrc";;
  esac
}

# the passwd overlay $D/passwd: the host's, root's shell REMOTE_SHELL if given, and the
# non-root login (no password: key only, the same authorized_keys as root's) with its home
write_passwd() {
  awk -F: -v OFS=: -v sh="${REMOTE_SHELL:-}" '$1 == "root" && sh != "" { $7 = sh } { print }' /etc/passwd > "$D/passwd"
  echo "$LAB_USER:*:$LAB_UID:$LAB_UID:cgspawn test login:$D/home:/bin/sh" >> "$D/passwd"
  install -d -m 0755 -o "$LAB_UID" -g "$LAB_UID" "$D/home"
  setpriv --reuid "$LAB_UID" --regid "$LAB_UID" --clear-groups test -r "$D/authorized_keys" ||
    die "the non-root login (uid $LAB_UID) cannot read $D/authorized_keys: is a directory above $LAB closed?"
}

# ---- start the sshd in its namespaces ----------------------------------------------------------
start_sshd() {
  local bashrc pidflags=() cgflag=()
  bashrc=$(bashrc_overlay)
  write_passwd
  [ "$CGNS" = 1 ] && cgflag=(--cgroup)
  [ "$PIDNS" = 1 ] && pidflags=(--pid --fork --kill-child --mount-proc)
  mkdir "$CG" "$CG/sshd"
  : > "$D/sshd.log"
  # The launcher joins the lab's cgroup (the cgroup namespace root), enters the netns with nsenter
  # (not "ip netns exec": that remounts /sys, hiding the cgroup tree), unshare makes the rest.
  # shellcheck disable=SC2016  # $$ and $1 are the launcher's own
  setsid sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' launch "$CG" \
    nsenter --net="/run/netns/$NS" -- \
    unshare --mount --uts "${cgflag[@]}" "${pidflags[@]}" --propagation private -- \
    /bin/sh "$HERE/remote-init.sh" "$N" "$D" "$CG" "$CG2" "$CGNS" "$bashrc" "$D/passwd" "${REMOTE_PRIVATE_DIRS:-}" \
    "${REMOTE_CGSPAWN:-}" </dev/null >>"$D/sshd.log" 2>&1 &
  echo $! > "$D/launch.pid"
}

wait_listening() {
  local _
  for _ in $(seq 200); do
    grep -q "Server listening on $REM_IP port $PORT" "$D/sshd.log" && break
    kill -0 "$(cat "$D/launch.pid")" 2>/dev/null || break
    sleep 0.05
  done
  grep -q "Server listening on $REM_IP port $PORT" "$D/sshd.log" || {
    log "sshd of r$N did not start; its log:"; cat "$D/sshd.log" >&2; return 1; }
  listener_pid > "$D/listener.pid" || { log "listening sshd not found in $CG"; return 1; }
  # the PID-namespace launcher (unshare's parent) stays in the subtree root: move it to the leaf
  local p
  for p in $(cat "$CG/cgroup.procs"); do echo "$p" > "$CG/sshd/cgroup.procs"; done
}

write_env() {
  cat > "$D/env" <<EOF
LAB_N=$N
LAB_ALIAS=r$N
LAB_DIR=$D
LAB_SSH_CONFIG=$D/ssh_config
LAB_KNOWN_HOSTS=$D/known_hosts
LAB_IDENTITY=$D/id_ed25519
LAB_ADDR=$REM_IP
LAB_HOST_ADDR=$HOST_IP
LAB_PORT=$PORT
LAB_NETNS=$NS
LAB_CGROUP=$CG
LAB_REMOTE_CGROUP_ROOT=$([ "$CGNS" = 1 ] && echo "$CG2" || echo "$CG")
LAB_CGNS=$CGNS
LAB_PIDNS=$PIDNS
LAB_LISTENER_PID=$(cat "$D/listener.pid")
EOF
}

# on_exit: a lab-up that did not finish tears down whatever it made
UP_OK=
on_exit() {
  [ -n "$UP_OK" ] && return
  log "lab-up $N failed; tearing down"
  "$HERE/lab-down.sh" "$N" >&2 || true
}

main() {
  preflight
  install_deps
  mkdir -p "$LAB"
  chmod 755 "$LAB"
  # 711: the non-root login's sshd session reads authorized_keys and its home by name; the
  # client key stays 0600.
  mkdir -m 711 "$D" || die "cannot claim $D (another lab-up $N running?)"
  trap 'on_exit' EXIT                # from here on, a failure tears down what was made
  : > "$D/.cgspawn-testlab"          # marker: lab-down removes only dirs that carry it
  make_network
  make_keys
  write_sshd_config
  write_ssh_config
  start_sshd
  wait_listening
  write_env
  UP_OK=1
  log "r$N up: $REM_IP:$PORT, listener pid $(cat "$D/listener.pid"), cgroup $CG (pidns=$PIDNS cgns=$CGNS)"
  echo "$D/ssh_config"
}
main
