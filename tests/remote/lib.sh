# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034  # the names set here are used by the scripts that source it
# lib.sh - shared names and helpers of the fake-remote test bed (sourced by the scripts here, bash).
#
# One fake remote N (1..250) is made of:
#   netns      cgspawn-testlab-rN
#   veth pair  cgtlNh (root netns, 10.200.N.1/24) <-> cgtlNr (inside the netns, 10.200.N.2/24)
#   guards     route "unreachable 10.200.N.0/24 metric 4000" and nft table inet cgspawn_testlab_rN
#              (root netns), so lab traffic can never leave through eth0's default route
#   cgroup     <cgroup2 mount>/cgspawn-testlab-rN   (the remote's processes live in its leaf "sshd")
#   lab dir    $CGSPAWN_LAB/rN  (default /run/cgspawn-testlab/rN; keys, configs, logs, pid files)

LAB=${CGSPAWN_LAB:-/run/cgspawn-testlab}
PORT=${PORT:-2222}
NAME_PREFIX=cgspawn-testlab
FAULT_TABLE=cgspawn_testlab_fault        # nft table inside the remote's netns (fault.sh)

log() { echo "${0##*/}: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# lab_names N: set every name/path/address of remote N. Validates N.
lab_names() {
  case ${1:-} in ''|*[!0-9]*|0*) die "N must be a number 1..250, got '${1:-}'";; esac
  [ "$1" -le 250 ] || die "N must be 1..250"
  N=$1
  ALIAS=r$N
  NS=$NAME_PREFIX-r$N
  VETH_H=cgtl${N}h
  VETH_R=cgtl${N}r
  SUBNET=10.200.$N.0/24
  HOST_IP=10.200.$N.1
  REM_IP=10.200.$N.2
  GUARD_TABLE=cgspawn_testlab_r$N
  D=$LAB/r$N
  CG2=$(cgroup2_root)
  CG=$CG2/$NAME_PREFIX-r$N
  # The remote's non-root login, in its private /etc/passwd only: a uid per remote, unused here
  # (lab-up.sh checks), so that what one remote's user leaves in the shared /tmp is told apart.
  LAB_USER=cglab
  LAB_UID=$((2700 + N))
  LAB_USER_AGENT_DIR=/tmp/cgspawn-agent-$LAB_UID
}

# cgroup2_root: mount point of the cgroup2 hierarchy (/sys/fs/cgroup/unified on this hybrid host).
cgroup2_root() {
  awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

# check_lab_dir: the lab dir must be absolute and outside any git checkout (keys are never committed).
check_lab_dir() {
  case $LAB in /?*) ;; *) die "CGSPAWN_LAB must be an absolute path, got '$LAB'";; esac
  local p=$LAB
  while [ ! -d "$p" ]; do p=$(dirname "$p"); done
  if git -C "$p" rev-parse --show-toplevel >/dev/null 2>&1; then
    die "lab dir $LAB is inside a git work tree; keep it outside (default /run/cgspawn-testlab)"
  fi
}

# remote_pids: host PIDs of every process of remote N (its cgroup subtree + its netns), sorted.
remote_pids() {
  {
    [ -d "$CG" ] && find "$CG" -name cgroup.procs -exec cat {} +
    [ -e "/run/netns/$NS" ] && ip netns pids "$NS"
  } 2>/dev/null | sort -un
}

# client_pids: local ssh clients (e.g. a mux master) that use this remote's client config.
client_pids() {
  local p
  [ -n "${D:-}" ] || return 0
  for p in $(pgrep -x ssh); do
    # (2> first: a client that ends meanwhile fails the < redirection itself)
    tr '\0' '\n' 2>/dev/null < "/proc/$p/cmdline" | grep -qxF "$D/ssh_config" && echo "$p"
  done
  return 0
}

# listener_pid: host PID of the remote's listening sshd (found in its cgroup by its title).
listener_pid() {
  local p
  for p in $(remote_pids); do
    case $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null) in
      *"[listener]"*|"/usr/sbin/sshd -D"*) echo "$p"; return 0;;
    esac
  done
  return 1
}

# ---- packages -------------------------------------------------------------------------------
# command -> Debian package that provides it
REQUIRED="/usr/sbin/sshd:openssh-server ssh:openssh-client ssh-keygen:openssh-client ip:iproute2
ss:iproute2 nft:nftables nsenter:util-linux unshare:util-linux flock:util-linux setsid:util-linux"

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "$@" >&2
}

# services_blocked: true when policy-rc.d denies service starts (so installing openssh-server does
# not start the system sshd; PID 1 is not systemd here, invoke-rc.d would run /etc/init.d/ssh).
services_blocked() {
  [ -x /usr/sbin/policy-rc.d ] || return 1
  local rc=0
  /usr/sbin/policy-rc.d ssh start >/dev/null 2>&1 || rc=$?
  [ "$rc" = 101 ]
}

# system_sshd_pids: sshd processes that are not one of our labs' (i.e. a system sshd).
system_sshd_pids() {
  local p
  for p in $(pgrep -x sshd); do
    grep -q "^0::/$NAME_PREFIX-r" "/proc/$p/cgroup" 2>/dev/null || echo "$p"
  done
  return 0
}

# install_deps: install the Debian packages of the missing commands, never starting a service.
install_deps() {
  local pair missing='' made_policy=''
  for pair in $REQUIRED; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
  done
  [ -n "$missing" ] || return 0
  missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
  if ! services_blocked; then
    # Block service starts for the time of our install only. (Other sessions' installs running at
    # the same moment are blocked too, which is the Debian container default anyway.)
    [ -e /usr/sbin/policy-rc.d ] && die "/usr/sbin/policy-rc.d exists but allows service starts; not installing openssh-server"
    printf '#!/bin/sh\n# temporary, from cgspawn tests/remote: no service starts\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  log "installing:$missing"
  local rc=0
  apt_install $missing || {
    log "install failed; running apt-get update once and retrying"
    apt-get update -o DPkg::Lock::Timeout=600 >&2 || true
    apt_install $missing
  } || rc=$?
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || die "apt-get install$missing failed"
  [ -z "$(system_sshd_pids)" ] || die "a system sshd is running (pids $(system_sshd_pids | tr '\n' ' ')); not ours, not touched"
}
