#!/bin/bash
# SPDX-License-Identifier: MIT
# lab-up.sh - prepare the offline podman test bed for cgspawn (idempotent).
#
# Facts this relies on (README.md here): rootful podman 4.3.1 works offline here only with
# runc (crun refuses this hybrid cgroup host), cgroupfs, the file event logger, ulimits clamped to
# what root may set without CAP_SYS_RESOURCE, and no network namespace setup (never the bridge).
#
# Creates, in $CGSPAWN_PODMAN_LAB (default /run/cgspawn-podman-lab, outside the checkout):
#   containers.conf   podman config; use it with: export CONTAINERS_CONF=$LAB/containers.conf
#   rootfs/           busybox-static rootfs with /bin/workload, for `--rootfs $LAB/rootfs:O`
#   runtime/runc      failing runtime wrapper: subcommand X fails while runtime/FAIL_X exists
#   env               the export lines printed on stdout at the end
# and the image localhost/cgspawn-test-bbox:latest.
# Usage: eval "$(tests/podman/lab-up.sh)"      (all progress messages go to stderr)
set -euo pipefail

LAB=${CGSPAWN_PODMAN_LAB:-/run/cgspawn-podman-lab}
IMAGE=localhost/cgspawn-test-bbox:latest
PACKAGES=(podman runc conmon busybox-static catatonit)

log() { echo "lab-up: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "$@" >&2
}

# Install what is missing; refresh the package lists once only if the first try fails.
install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  log "installing ${missing[*]}"
  apt_install "${missing[@]}" && return 0
  log "install failed; running apt-get update once and retrying"
  apt-get update -o DPkg::Lock::Timeout=600 >&2
  apt_install "${missing[@]}"
}

# podman 4.3.1 asks for nofile=1048576 which root cannot set here (no CAP_SYS_RESOURCE), and
# podman itself lowers RLIMIT_NPROC to 32768 before starting the runtime: clamp both.
write_conf() {
  local nofile nproc
  nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
  nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
  cat > "$LAB/containers.conf.tmp" <<EOF
# cgspawn podman lab (tests/podman/lab-up.sh): runc, cgroupfs, file events, no network
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "none"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  mv "$LAB/containers.conf.tmp" "$LAB/containers.conf"
}

# /bin/workload N: N sleepers, a setsid double-forked daemon (re-parented to PID 1), a child that
# ignores SIGTERM, then PID 1 (sh, no TERM handler) waits forever. Prints "ready" when started.
workload_script() {
  cat <<'EOF'
#!/bin/sh
n=${1:-3}
i=0
while [ "$i" -lt "$n" ]; do sleep 10000 & i=$((i + 1)); done
setsid sh -c 'sleep 10001 & exit 0' &
sh -c 'trap "" TERM; exec sleep 10002' &
echo ready
while :; do wait; done
EOF
}

# Content stamp: the rootfs and image are rebuilt only when busybox or the workload change.
rootfs_stamp() {
  { sha256sum /bin/busybox; workload_script; } | sha256sum | cut -c1-16
}

build_rootfs() {
  local stamp=$1 r=$LAB/rootfs.new a
  [ "$(cat "$LAB/rootfs/.cgspawn-stamp" 2>/dev/null)" = "$stamp" ] && return 0
  log "building rootfs ($stamp)"
  rm -rf "$r"; mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,run,root}
  cp /bin/busybox "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
  echo 'root:x:0:' > "$r/etc/group"
  workload_script > "$r/bin/workload"; chmod 755 "$r/bin/workload"
  echo "$stamp" > "$r/.cgspawn-stamp"
  rm -rf "$LAB/rootfs"; mv "$r" "$LAB/rootfs"
}

import_image() {
  local stamp=$1 have
  have=$(podman image inspect --format '{{index .Labels "cgspawn.stamp"}}' "$IMAGE" 2>/dev/null || true)
  [ "$have" = "$stamp" ] && return 0
  log "importing $IMAGE"
  tar -C "$LAB/rootfs" -cf "$LAB/rootfs.tar" .
  podman import -q --change 'CMD ["/bin/sh"]' --change "LABEL cgspawn.stamp=$stamp" \
    "$LAB/rootfs.tar" "$IMAGE" >/dev/null
  rm -f "$LAB/rootfs.tar"
}

# A wrapper named "runc" (podman picks runtime behaviour by basename) that fails the OCI
# subcommand X while $dir/FAIL_X exists and otherwise execs the real runc.
write_fail_runtime() {
  local dir=$LAB/runtime real
  real=$(command -v runc) || die "runc not found"
  mkdir -p "$dir"
  cat > "$dir/runc.tmp" <<EOF
#!/bin/sh
# Failure-injection runtime for the cgspawn podman lab: 'touch $dir/FAIL_kill' makes
# 'runc kill' fail (exit 1) until the file is removed. Any runc subcommand works the same way.
for a in "\$@"; do
  case "\$a" in
    checkpoint|create|delete|events|exec|features|kill|list|pause|ps|restore|resume|run|spec|start|state|update)
      if [ -e "$dir/FAIL_\$a" ]; then echo "simulated runtime failure in '\$a'" >&2; exit 1; fi
      break ;;
  esac
done
exec $real "\$@"
EOF
  chmod 755 "$dir/runc.tmp"; mv "$dir/runc.tmp" "$dir/runc"
}

write_env() {
  cat > "$LAB/env" <<EOF
export CONTAINERS_CONF=$LAB/containers.conf
export CGSPAWN_PODMAN_LAB=$LAB
export CGSPAWN_PODMAN_IMAGE=$IMAGE
export CGSPAWN_PODMAN_ROOTFS=$LAB/rootfs
export CGSPAWN_PODMAN_FAIL_RUNTIME=$LAB/runtime/runc
EOF
}

check_podman() {
  local got
  got=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Host.EventLogger}}')
  [ "$got" = "runc cgroupfs file" ] || die "podman info says '$got', want 'runc cgroupfs file'"
}

# podman (cgroupfs manager) makes /libpod_parent in the cgroup hierarchies for what it starts
# without a --cgroup-parent (its cleanup processes, conmon): the cgroups where it is absent now
# are noted, and lab-down removes them (empty only) as the lab's own. Noted once per lab (lab-down
# removes the note with the lab): a second lab-up while the lab is up would find the ones podman
# made meanwhile and forget them.
note_libpod_parent() {
  local h
  [ -f "$LAB/libpod-parents" ] && return 0
  : > "$LAB/libpod-parents"
  for h in $(awk '$3 == "cgroup2" || $3 == "cgroup" { print $2 }' /proc/self/mounts); do
    [ -d "$h/libpod_parent" ] || echo "$h/libpod_parent" >> "$LAB/libpod-parents"
  done
}

main() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  case "$LAB" in /*) ;; *) die "CGSPAWN_PODMAN_LAB must be absolute";; esac
  install_packages
  mkdir -p "$LAB"
  note_libpod_parent
  write_conf
  export CONTAINERS_CONF=$LAB/containers.conf
  check_podman
  local stamp; stamp=$(rootfs_stamp)
  build_rootfs "$stamp"
  import_image "$stamp"
  write_fail_runtime
  write_env
  log "ready in $LAB"
  cat "$LAB/env"
}

main "$@"
