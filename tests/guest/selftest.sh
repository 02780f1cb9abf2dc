#!/bin/bash
# SPDX-License-Identifier: MIT
# selftest.sh: checks, INSIDE the guest, what the cgspawn tests rely on.
#   tests/guest/run-in-guest.sh -- tests/guest/selftest.sh
#   tests/guest/run-in-guest.sh --multi-user -- tests/guest/selftest.sh   (adds the user manager)
# Prints one PASS/FAIL line per check and "N passed, N failed"; exits 1 on any failure.
set -u
passed=0 failed=0

check() {
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then echo "PASS $name"; passed=$((passed + 1))
  else echo "FAIL $name"; failed=$((failed + 1)); fi
}
has_words() { local f=$1 w; shift; for w; do grep -qw "$w" "$f" || return 1; done; }
wait_for() { local _; for _ in $(seq 100); do "$@" && return 0; sleep 0.05; done; return 1; }

system_checks() {
  check pid1-is-systemd test "$(cat /proc/1/comm)" = systemd
  check cgroup2-only test "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs
  check root-controllers has_words /sys/fs/cgroup/cgroup.controllers cpu memory pids io
  check system-bus test -S /run/dbus/system_bus_socket
  check user-cgtest test "$(id -u cgtest)" = 1500
  check cgtest-lingers test -e /var/lib/systemd/linger/cgtest
  check modprobe-null_blk modprobe null_blk
}

# A raw child cgroup in the delegated subtree: limits, kill, removal.
delegated_checks() {
  local d=${CGTEST_DELEGATED_CGROUP:-} c
  check delegated-cgroup-set test -d "$d"
  [ -d "$d" ] || return
  c=$d/selftest
  check delegated-subtree-control has_words "$d/cgroup.subtree_control" cpu memory pids io
  check raw-mkdir mkdir "$c"
  check raw-controllers has_words "$c/cgroup.controllers" cpu memory pids io
  check raw-limits sh -c "echo 64M > $c/memory.max && echo 4 > $c/pids.max && echo '50000 100000' > $c/cpu.max"
  bash -c "echo \$\$ > $c/cgroup.procs; for i in 1 2 3 4 5 6; do sleep 60 & done 2>/dev/null; wait" &
  sleep 1
  check raw-pids-max-enforced test "$(cat "$c/pids.current")" -le 4
  echo 1 > "$c/cgroup.kill"
  check raw-cgroup-kill wait_for grep -q 'populated 0' "$c/cgroup.events"
  wait
  check raw-rmdir rmdir "$c"
}

systemd_checks() {
  local out
  out=$(systemd-run --quiet --scope -p MemoryMax=32M -p TasksMax=7 -- \
        sh -c 'd=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup); cat $d/memory.max $d/pids.max')
  check systemd-run-scope-limits test "$(echo $out)" = "33554432 7"
  systemd-run --quiet --wait -p TasksMax=4 -- sh -c 'exit 3'
  check systemd-run-wait-status test $? = 3
}

# sshd on the guest's loopback, key login as cgtest (for the remote-backend tests).
ssh_checks() {
  local key=/root/.ssh/selftest_ed25519 home=/home/cgtest
  mkdir -p /root/.ssh "$home/.ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$key"
  cp "$key.pub" "$home/.ssh/authorized_keys"
  chown -R cgtest: "$home/.ssh"; chmod 700 "$home/.ssh"
  check sshd-start systemctl start ssh.service
  check ssh-loopback-login test "$(ssh -i "$key" -o BatchMode=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null cgtest@127.0.0.1 id -u 2>/dev/null)" = 1500
  systemctl stop ssh.service
}

user_manager_checks() {
  systemctl -q is-active user@1500.service || { echo "SKIP user manager (not booted with --multi-user)"; return; }
  check user-manager-running test "$(systemctl --user -M cgtest@ is-system-running)" = running
  check user-manager-delegated has_words \
    /sys/fs/cgroup/user.slice/user-1500.slice/user@1500.service/cgroup.controllers cpu memory pids
}

echo "selftest: uptime $(cut -d' ' -f1 /proc/uptime)s, state $(systemctl is-system-running)"
system_checks
delegated_checks
systemd_checks
ssh_checks
user_manager_checks
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
