#!/bin/bash
# SPDX-License-Identifier: MIT
# run-in-guest.sh [-e NAME=VALUE]... [-t SECONDS] [-s DIR] [--multi-user] -- CMD [ARGS...]
#
# Boots the Debian guest of build-image.sh (built first if missing: 12, or 13 with
# CGSPAWN_GUEST_SUITE=trixie) under QEMU, runs CMD there as root and exits with
# CMD's exit status. CMD's stdout and stderr are streamed live (merged).
#
#   -e NAME=VALUE  export NAME=VALUE for CMD (repeatable)
#   -t SECONDS     wall-clock limit for the whole VM, boot included (default 1800)
#   -s DIR         host dir shared read-write into the guest at the SAME path
#                  (default: git top-level of the current dir, else the current dir)
#   --multi-user   boot multi-user.target (udev, logind, the lingering cgtest
#                  user's manager) and wait for it instead of the minimal cgtest.target
#
# In the guest: systemd (252, or 257) is PID 1 on pure cgroup v2. CMD runs in
# cgtest-run.service (Type=exec, Delegate=yes) from the leaf cgroup
# <unit>/harness; +cpu +memory +pids +io are enabled in the unit's
# subtree_control and CGTEST_DELEGATED_CGROUP=/sys/fs/cgroup/<unit> is exported.
# CMD starts in the current directory, which must be inside the share.
#
# Exit: CMD's status; 125 if the guest reported none (boot failure, time limit:
# the QEMU log and the console tail are printed); 2 on usage errors.
# Env: CGTEST_ACCEL=kvm (default tcg), CGTEST_MEM_MB (default 2048),
#      CGTEST_APPEND (extra kernel args), CGTEST_KEEP=1 (keep the run dir),
#      CGSPAWN_GUEST_SUITE, CGSPAWN_GUEST_CACHE (see build-image.sh).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=1800
SHARE=
MULTI_USER=
ENVS=()
RUN=
QPID=
TPID=

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "run-in-guest: $1" >&2; exit "${2:-125}"; }

parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      -e) [[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage; ENVS+=("$2"); shift 2 ;;
      -t) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; TIMEOUT=$2; shift 2 ;;
      -s) [ -d "${2:-}" ] || die "-s: not a directory: ${2:-}" 2; SHARE=$2; shift 2 ;;
      --multi-user) MULTI_USER=1; shift ;;
      --) shift; break ;;
      *) usage ;;
    esac
  done
  [ $# -gt 0 ] || usage
  CMD=("$@")
}

# The share is mounted over the guest's own tree at the same path: it must not
# hide a system directory, and the current directory must lie inside it.
choose_share() {
  [ -n "$SHARE" ] || SHARE=$(git -C "$PWD" rev-parse --show-toplevel 2>/dev/null) || SHARE=$PWD
  SHARE=$(realpath "$SHARE")
  [[ $SHARE != *[[:space:]]* ]] || die "share path contains whitespace: $SHARE" 2
  case $SHARE/ in
    /|/tmp/|/var/|/bin/*|/boot/*|/dev/*|/etc/*|/lib*|/proc/*|/run/*|/sbin/*|/sys/*|/usr/*|/var/lib/*)
      die "refusing to share $SHARE: it would hide guest system files" 2 ;;
  esac
  case $(realpath "$PWD")/ in
    "$SHARE"/*) ;;
    *) die "the current directory $PWD is not inside the share $SHARE (use -s)" 2 ;;
  esac
}

# The script the guest runner executes: environment, cwd, then CMD.
write_cmd() {
  local e
  {
    for e in "${ENVS[@]}"; do printf 'export %q\n' "$e"; done
    printf 'cd %q || exit 125\n' "$(realpath "$PWD")"
    printf 'exec'; printf ' %q' "${CMD[@]}"; printf '\n'
  } > "$RUN/cmd"
}

kernel_args() {
  local args="console=ttyS0 root=/dev/vda rw quiet loglevel=4 panic=-1 mitigations=off
    systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all systemd.show_status=error
    systemd.mask=serial-getty@ttyS0.service cgtest.share=$SHARE" u
  if [ -n "$MULTI_USER" ]; then
    args+=" systemd.unit=multi-user.target systemd.wants=cgtest-run.service cgtest.wait=1"
  else
    # udev costs ~2.5 s of TCG boot and the minimal target does not need it.
    args+=" systemd.unit=cgtest.target"
    for u in systemd-udevd.service systemd-udev-trigger.service systemd-udevd-kernel.socket \
             systemd-udevd-control.socket systemd-udev-settle.service; do
      args+=" systemd.mask=$u"
    done
  fi
  echo $args ${CGTEST_APPEND:-}
}

start_qemu() {
  local accel
  if [ "${CGTEST_ACCEL:-tcg}" = kvm ]; then
    accel=(-accel kvm -cpu host)
  else
    # shellcheck disable=SC2054  # commas belong to the -accel value
    accel=(-accel tcg,thread=multi,tb-size=256 -cpu max)
  fi
  # timeout(1) enforces the limit and forwards SIGTERM to QEMU.
  timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
    -machine q35 "${accel[@]}" -smp 2 -m "${CGTEST_MEM_MB:-2048}" \
    -nodefaults -no-user-config -display none -monitor none -no-reboot \
    -serial "file:$RUN/console.log" \
    -kernel "$IMG/vmlinux" -initrd "$IMG/initrd.cpio.gz" -append "$(kernel_args)" \
    -drive "file=$IMG/root.img,format=raw,if=virtio,snapshot=on,cache=unsafe" \
    -device virtio-rng-pci \
    -virtfs "local,path=$RUN,mount_tag=cgout,security_model=none,id=cgout" \
    -virtfs "local,path=$SHARE,mount_tag=cgshare,security_model=none,multidevs=remap,id=cgshare" \
    </dev/null >"$RUN/qemu.log" 2>&1 &
  QPID=$!
  # Live output: follow the log the guest writes over 9p; ends when QEMU exits.
  tail -s 0.2 -n +1 -F --pid=$QPID "$RUN/output.log" 2>/dev/null &
  TPID=$!
}

cleanup() {
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
  [ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
  if [ -n "$RUN" ]; then
    if [ -n "${CGTEST_KEEP:-}" ]; then echo "run-in-guest: run dir kept: $RUN" >&2; else rm -rf "$RUN"; fi
  fi
}

on_signal() { trap - INT TERM; cleanup; QPID='' TPID='' RUN=''; exit $((128 + $1)); }

report_failure() {
  local qrc=$1
  echo "run-in-guest: the guest reported no exit code (qemu status $qrc$([ "$qrc" = 124 ] && echo ", time limit of ${TIMEOUT}s hit"))" >&2
  echo "--- qemu.log" >&2; cat "$RUN/qemu.log" >&2
  echo "--- last 40 lines of the console" >&2; tail -n 40 "$RUN/console.log" >&2
}

main() {
  parse_args "$@"
  choose_share
  IMG=$("$HERE/build-image.sh") || die "building the guest image failed"
  trap cleanup EXIT
  trap 'on_signal 2' INT
  trap 'on_signal 15' TERM
  RUN=$(mktemp -d /tmp/cgtest-run.XXXXXX)
  write_cmd
  start_qemu
  wait "$QPID"; local qrc=$?           # wait (unlike a foreground job) is interrupted by signals
  QPID=
  wait "$TPID"; TPID=
  local rc
  rc=$(cat "$RUN/exitcode" 2>/dev/null)
  if [[ ! $rc =~ ^[0-9]+$ ]]; then
    report_failure "$qrc"
    rc=125
  fi
  exit "$rc"
}

main "$@"
