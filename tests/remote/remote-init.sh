#!/bin/sh
# SPDX-License-Identifier: MIT
# remote-init.sh - first program of a fake remote, run by lab-up.sh already inside the remote's
# network, mount, UTS (and optionally cgroup and PID) namespaces. Not meant to be run by hand.
#
# usage: remote-init.sh N LABDIR HOSTCG CG2 CGNS BASHRC PASSWD "PRIVATE_DIRS" [CGSPAWN]
#   Makes the mounts private to the remote, sets its hostname, joins the remote's sshd cgroup leaf
#   and execs the private sshd. Every mount below happens in the remote's own mount namespace
#   (unshare --propagation private); the host's mount table does not change.
set -eu
N=$1 D=$2 HOSTCG=$3 CG2=$4 CGNS=$5 BASHRC=$6 PASSWD=$7 PRIVATE_DIRS=$8 CGSPAWN=${9:-}

# Keep a handle on the lab dir: the tmpfs mounted over /run (or a private dir) may hide it.
exec 9<"$D"

# /run: the compiled-in privilege separation dir /run/sshd is missing on this host, and the remote
# gets its own /run (e.g. for /run/cgspawn). /var/log: pty logins would write the host's wtmp.
mount -t tmpfs -o mode=0755,size=16m cgspawn-testlab-run /run
mkdir -m 0755 /run/sshd
mount -t tmpfs -o mode=0755,size=4m cgspawn-testlab-log /var/log
: > /var/log/lastlog
: > /var/log/wtmp
for dir in $PRIVATE_DIRS; do
  mount -t tmpfs -o mode=0755,size=64m cgspawn-testlab-priv "$dir"
done

# /usr/local/bin: the host's (where a cgspawn may be installed) is not the remote's. A remote
# with cgspawn "installed" gets the given binary there, its directory (with the supervisor
# beside it) bound at /usr/local/bin/.cgspawn: the non-root login reaches it there even where
# the checkout's own path is closed to it (a checkout in a mktemp -d, 0700).
mount -t tmpfs -o mode=0755,size=1m cgspawn-testlab-bin /usr/local/bin
if [ -n "$CGSPAWN" ]; then
  mkdir /usr/local/bin/.cgspawn
  mount --bind "${CGSPAWN%/*}" /usr/local/bin/.cgspawn
  ln -s ".cgspawn/${CGSPAWN##*/}" /usr/local/bin/cgspawn
fi

# Put the lab dir back at its own path (through the kept fd, not by name: by name it is hidden).
mkdir -p "$D"
mount --no-canonicalize --bind /proc/self/fd/9 "$D"
exec 9<&-

# Overlays: an empty (or custom) ~/.bashrc (optional), a passwd with the non-root login (and
# root's shell REMOTE_SHELL).
[ -z "$BASHRC" ] || mount --bind "$BASHRC" /root/.bashrc
[ -z "$PASSWD" ] || mount --bind "$PASSWD" /etc/passwd

# Cgroups: move into the leaf "sshd" (host path; the lab's subtree root holds no process), then,
# with a cgroup namespace, mount a cgroup2 of our own so the remote sees only its subtree.
echo $$ > "$HOSTCG/sshd/cgroup.procs"
if [ "$CGNS" = 1 ]; then
  umount "$CG2"
  mount -t cgroup2 cgroup2 "$CG2"
fi

hostname "remote$N"
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/sshd -D -e -f "$D/sshd_config"
