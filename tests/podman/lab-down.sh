#!/bin/bash
# SPDX-License-Identifier: MIT
# lab-down.sh - remove everything of the cgspawn podman test bed (idempotent).
#
# Removes: every container named cgspawn-test* or made from the test image or from the lab's
# rootfs; the test image; runc state and podman exit files of those containers (also of ones
# podman already forgot); podman's leftover cgroup dirs under the test cgroup roots; the lab dir.
# podman's exit code does not prove a container is gone (see README.md here), so this script
# thaws, kills and polls through the cgroups itself, and exits 1 if anything is left.
#
# Env: CGSPAWN_PODMAN_LAB          lab dir (default /run/cgspawn-podman-lab)
#      CGSPAWN_PODMAN_CGROUP_ROOTS absolute cgroup parents used by tests, space-separated
#                                  (default /cgspawn-podtest); each name must start with "cgspawn".
#                                  Whatever runs below them is killed.
set -uo pipefail

LAB=${CGSPAWN_PODMAN_LAB:-/run/cgspawn-podman-lab}
IMAGE=localhost/cgspawn-test-bbox:latest
CG_ROOTS=${CGSPAWN_PODMAN_CGROUP_ROOTS:-/cgspawn-podtest}
CGFS=/sys/fs/cgroup
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)  # /sys/fs/cgroup, or .../unified on a hybrid host
# Every cgroup hierarchy: podman makes the container's dirs in cgroup2 and in each v1 one.
CG_MOUNTS=$(awk '$3 == "cgroup2" || $3 == "cgroup" { print $2 }' /proc/self/mounts)
LEFT=0

log() { echo "lab-down: $*" >&2; }
left() { log "LEFT: $*"; LEFT=$((LEFT + 1)); }

# podman must see the same runtime/cgroup manager as lab-up; fall back to flags if the conf is gone.
podman_() {
  if [ -f "$LAB/containers.conf" ]; then CONTAINERS_CONF=$LAB/containers.conf podman "$@"
  else podman --runtime runc --cgroup-manager cgroupfs --events-backend file "$@"; fi
}

check_roots() {
  local r
  for r in $CG_ROOTS; do
    case "$r" in /*) ;; *) log "cgroup root '$r' is not absolute"; exit 2;; esac
    case "${r##*/}" in cgspawn*) ;; *) log "cgroup root '$r' is not named cgspawn*"; exit 2;; esac
  done
}

# Container IDs of the lab: name cgspawn-test*, the test image (by name or ID), or the lab rootfs.
lab_containers() {
  local ids img_id
  ids=$(podman_ ps -a -q --no-trunc) || return 0
  [ -n "$ids" ] || return 0
  img_id=$(podman_ image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)
  # shellcheck disable=SC2086
  podman_ inspect --format '{{.Id}}|{{.Name}}|{{.Image}}|{{.ImageName}}|{{.Rootfs}}' $ids 2>/dev/null |
    while IFS='|' read -r id name image image_name rootfs; do
      case "$name" in cgspawn-test*) echo "$id"; continue;; esac
      [ -n "$img_id" ] && [ "$image" = "$img_id" ] && { echo "$id"; continue; }
      [ "$image_name" = "$IMAGE" ] && { echo "$id"; continue; }
      case "$rootfs" in "$LAB"/rootfs*) echo "$id";; esac
    done
}

# Thaw v1 freezer cgroups below our roots (the "unkillable process" trick), else nothing dies.
thaw_freezers() {
  local r f
  for r in $CG_ROOTS; do
    [ -d "$CGFS/freezer$r" ] || continue
    find "$CGFS/freezer$r" -name freezer.state | while read -r f; do
      grep -q THAWED "$f" || { log "thawing ${f%/freezer.state}"; echo THAWED > "$f"; }
    done
  done
}

remove_containers() {
  local id
  for id in $(lab_containers); do
    log "removing container ${id:0:12}"
    podman_ rm -f -t 0 "$id" >/dev/null 2>&1 || podman_ rm -f -t 0 "$id" >/dev/null 2>&1
  done
}

# All PIDs in the v1 pids hierarchy and in cgroup2 below our roots (container processes and the
# conmon processes, which sit in <parent>/conmon in the v1 hierarchies only).
root_pids() {
  local r
  for r in $CG_ROOTS; do
    find "$CGFS/pids$r" "$CG2$r" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

wait_no_pids() { # MS
  local end=$(( $(date +%s%3N) + $1 ))
  while [ -n "$(root_pids)" ] && [ "$(date +%s%3N)" -lt "$end" ]; do sleep 0.05; done
  [ -z "$(root_pids)" ]
}

# Whatever still runs below our roots (e.g. a container podman forgot) is killed:
# cgroup.kill on each root's cgroup2 node, then SIGKILL for the rest (conmon).
kill_leftovers() {
  local r p
  wait_no_pids 1000 && return 0
  for r in $CG_ROOTS; do
    [ -e "$CG2$r/cgroup.kill" ] || continue
    log "cgroup.kill on $CG2$r"; echo 1 > "$CG2$r/cgroup.kill"
  done
  wait_no_pids 1000 && return 0
  for p in $(root_pids); do log "SIGKILL $p ($(cat /proc/"$p"/comm 2>/dev/null))"; kill -9 "$p" 2>/dev/null; done
  wait_no_pids 2000 || left "processes below $CG_ROOTS: $(root_pids | tr '\n' ' ')"
}

# runc state (/run/runc/<ID>) whose cgroups lie below our roots, and podman's exit files.
clean_runc_state() {
  local s id r
  for s in /run/runc/*/state.json; do
    [ -f "$s" ] || continue
    id=$(basename "$(dirname "$s")")
    for r in $CG_ROOTS; do
      grep -q "\"$CGFS/[^\"]*$r/" "$s" || continue
      log "runc delete --force ${id:0:12}"
      runc delete --force "$id" >/dev/null 2>&1 || rm -rf "/run/runc/$id"
      rm -f "/run/libpod/exits/$id"
    done
  done
}

remove_image() {
  podman_ image exists "$IMAGE" || return 0
  log "removing image $IMAGE"
  podman_ rmi -f "$IMAGE" >/dev/null || left "image $IMAGE"
}

# Depth-first rmdir of each root in every hierarchy; rmdir only ever removes empty cgroups.
# Retries briefly: podman's exit command (`podman container cleanup`) may still be in <parent>/conmon.
remove_cgroup_dirs() {
  local r h
  for _ in $(seq 1 40); do
    for r in $CG_ROOTS; do
      for h in $CG_MOUNTS; do
        [ -d "$h$r" ] && find "$h$r" -depth -type d -exec rmdir {} \; 2>/dev/null
      done
    done
    [ -z "$(leftover_dirs)" ] && return 0
    sleep 0.05
  done
  left "cgroup dirs: $(leftover_dirs)"
}

# /libpod_parent where lab-up found none: podman made it for the lab (lab-up.sh).
remove_libpod_parents() {
  local d
  [ -f "$LAB/libpod-parents" ] || return 0
  while read -r d; do
    for _ in $(seq 1 40); do
      [ -d "$d" ] || break
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
      sleep 0.05
    done
    [ -d "$d" ] && left "cgroup $d (not empty)"
  done < "$LAB/libpod-parents"
  return 0
}

leftover_dirs() {
  local r h
  for r in $CG_ROOTS; do for h in $CG_MOUNTS; do [ -d "$h$r" ] && echo -n "$h$r "; done; done
}

# Remove the lab dir only if it is one (it holds our containers.conf), never anything else.
remove_lab_dir() {
  [ -e "$LAB" ] || return 0
  case "$LAB" in /|/*/..*|"") log "refusing to remove '$LAB'"; LEFT=$((LEFT + 1)); return;; esac
  if [ -f "$LAB/containers.conf" ] && grep -q 'cgspawn podman lab' "$LAB/containers.conf"; then
    rm -rf "$LAB"
  elif [ -z "$(ls -A "$LAB")" ]; then
    rmdir "$LAB"
  else
    left "$LAB does not look like a lab dir; not removed"
  fi
}

main() {
  [ "$(id -u)" = 0 ] || { log "must run as root"; exit 2; }
  check_roots
  if command -v podman >/dev/null; then
    thaw_freezers
    remove_containers
    kill_leftovers
    clean_runc_state
    remove_containers          # podman may still list a container whose processes were just killed
    remove_image
    local id; for id in $(lab_containers); do left "container $id"; done
  else
    thaw_freezers; kill_leftovers
  fi
  remove_cgroup_dirs
  remove_libpod_parents
  remove_lab_dir
  [ "$LEFT" = 0 ] && log "clean" || log "$LEFT item(s) left"
  [ "$LEFT" = 0 ]
}

main "$@"
