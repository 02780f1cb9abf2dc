#!/bin/bash
# SPDX-License-Identifier: MIT
# build-image.sh [--force]
#
# Builds (only when missing) the Debian guest used by run-in-guest.sh: real systemd as PID 1
# on pure cgroup v2, booted under QEMU. Debian 12 (bookworm, systemd 252) by default; Debian 13
# (trixie, systemd 257) with CGSPAWN_GUEST_SUITE=trixie. Prints the image directory on stdout;
# all progress goes to stderr. The directory holds
#   root.img        raw ext4 root disk (mkfs.ext4 -d of a debootstrap rootfs)
#   vmlinux         uncompressed kernel of Debian's linux-image-amd64 (PVH boot)
#   initrd.cpio.gz  busybox initramfs loading the virtio/ext4/9p modules
#   recipe          what the image was built from (its hash is in the dir name)
#
# Cache: $CGSPAWN_GUEST_CACHE (default /var/cache/cgspawn-guest)/<suite>-<hash>, where <hash>
# covers this script, guest-files/, the package lists and the kernel version. A build happens
# in a temporary dir that is renamed into place at the end, so an interrupted build never
# leaves a valid-looking image. Entries of the same suite and other hashes are deleted after a
# successful build: one image per suite stays.
#
# The binaries under test are built on the bookworm host: a trixie guest gets bookworm's
# libsdbus-c++1, libspdlog1.10 and libfmt9 (trixie ships other sonames), fetched by the host's
# apt and installed with dpkg.
#
# Env: CGSPAWN_GUEST_SUITE        bookworm (default) or trixie
#      CGSPAWN_GUEST_AVOCADO      Avocado's source tarball, installed into /opt/avocado
#      CGSPAWN_GUEST_EXTRA_PKGS   more guest packages (space or comma separated)
#      MIRROR                     Debian mirror (default: the host's apt source)
# Needs root. Installs its host packages with apt-get.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${CGSPAWN_GUEST_CACHE:-/var/cache/cgspawn-guest}
SUITE=${CGSPAWN_GUEST_SUITE:-bookworm}
IMG_SIZE=2G
HOST_PKGS="qemu-system-x86 debootstrap e2fsprogs cpio gzip xz-utils zstd kmod linux-image-amd64"
# The libraries the host-built binaries link (libspdlog1.1 is called libspdlog1.10 in bookworm).
BOOKWORM_LIBS="libsdbus-c++1 libspdlog1.10 libfmt9"
GUEST_PKGS="systemd systemd-sysv udev dbus dbus-user-session libpam-systemd libsystemd0
  openssh-server openssh-client sudo procps iproute2 util-linux kmod busybox-static python3
  python3-venv ${CGSPAWN_GUEST_EXTRA_PKGS:-}"
case $SUITE in
  bookworm) GUEST_PKGS+=" $BOOKWORM_LIBS"; FOREIGN_LIBS= ;;
  trixie) FOREIGN_LIBS=$BOOKWORM_LIBS ;;
  *) echo "build-image: CGSPAWN_GUEST_SUITE must be bookworm or trixie, not '$SUITE'" >&2; exit 2 ;;
esac
GUEST_PKGS=$(echo ${GUEST_PKGS//,/ })           # normalise to single spaces
# Modules in the initramfs (needed to mount the root disk and the 9p shares) ...
INITRD_MODS="virtio_pci virtio_blk virtio_rng ext4 9p 9pnet_virtio"
# ... and extra modules installed in the guest for tests (modprobe loop, null_blk, ...).
GUEST_MODS="autofs4 loop null_blk brd overlay fuse veth dummy tun"
# Units that cost boot time under TCG and are useless in a throw-away VM.
MASK_UNITS="systemd-firstboot.service systemd-random-seed.service systemd-update-utmp.service
  systemd-update-utmp-runlevel.service modprobe@configfs.service modprobe@dm_mod.service
  modprobe@fuse.service modprobe@loop.service modprobe@drm.service modprobe@efi_pstore.service
  systemd-modules-load.service sys-kernel-debug.mount sys-kernel-tracing.mount
  sys-kernel-config.mount dev-hugepages.mount proc-sys-fs-binfmt_misc.automount
  systemd-binfmt.service systemd-sysusers.service systemd-journal-flush.service
  systemd-remount-fs.service systemd-tmpfiles-setup-dev.service kmod-static-nodes.service"
DISABLE_UNITS="apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
  fstrim.timer e2scrub_reap.service systemd-pstore.service getty@tty1.service ssh.service"
MASK_GENERATORS="cryptsetup gpt-auto hibernate-resume integritysetup veritysetup sysv rc-local
  system-update"

T0=$SECONDS
log() { echo "[build-image +$((SECONDS - T0))s] $*" >&2; }
die() { echo "build-image: $*" >&2; exit 1; }

# Long steps run in their own process group, so that a signal stops them whole
# (bash would otherwise run our trap only after a foreground child finished).
CHILD=
run_killable() {
  setsid "$@" &
  CHILD=$!
  wait "$CHILD"
  local rc=$?
  CHILD=
  return $rc
}
on_signal() {
  [ -n "$CHILD" ] && kill -TERM -- "-$CHILD" 2>/dev/null
  wait
  exit 130
}

# ---- host side ---------------------------------------------------------------

ensure_host_pkgs() {
  local missing="" p
  for p in $HOST_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=" $p"
  done
  [ -z "$missing" ] && return 0
  log "installing host packages:$missing"
  local apt=(apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600)
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" $missing >&2; then
    apt-get update -o DPkg::Lock::Timeout=600 >&2
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" $missing >&2 || die "cannot install:$missing"
  fi
}

# Newest kernel installed from Debian's linux-image-amd64.
kernel_version() {
  local k
  k=$(cd /lib/modules && ls -d *-amd64 2>/dev/null | sort -V | tail -1)
  [ -n "$k" ] && [ -f "/boot/vmlinuz-$k" ] || die "no Debian kernel in /boot and /lib/modules"
  echo "$k"
}

mirror() {
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
      sed -n 's|^URIs: *\(http[^ ]*/debian\)/*$|\1|p; s|^deb \(http[^ ]*/debian\)/* bookworm .*|\1|p' |
      head -1) || true
  echo "${MIRROR:-${m:-http://deb.debian.org/debian}}"
}

# Everything that determines the image; its hash names the cache entry.
recipe() {
  echo "suite=$SUITE size=$IMG_SIZE"
  echo "kernel=$KVER $(dpkg-query -W -f='${Version}' "linux-image-$KVER")"
  echo "guest-pkgs=$GUEST_PKGS"
  local p
  for p in $FOREIGN_LIBS; do echo "bookworm-lib=$p $(apt-cache show --no-all-versions "$p" | sed -n 's/^Version: //p')"; done
  echo "initrd-mods=$INITRD_MODS guest-mods=$GUEST_MODS"
  (cd "$HERE" && sha256sum build-image.sh guest-files/*)
  [ -z "${CGSPAWN_GUEST_AVOCADO:-}" ] || echo "avocado=$(sha256sum < "$CGSPAWN_GUEST_AVOCADO")"
}

# ---- guest root filesystem ---------------------------------------------------

bootstrap_rootfs() {
  local root=$1 m
  m=$(mirror)
  log "debootstrap $SUITE from $m"
  run_killable debootstrap --variant=minbase --include="${GUEST_PKGS// /,}" "$SUITE" "$root" "$m" \
      >"$BUILD/debootstrap.log" 2>&1 || { tail -25 "$BUILD/debootstrap.log" >&2; die "debootstrap failed"; }
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
}

# Bookworm's builds of the libraries the host-built binaries link, into a newer guest.
install_foreign_libs() {
  local root=$1
  [ -n "$FOREIGN_LIBS" ] || return 0
  log "installing bookworm's $FOREIGN_LIBS"
  mkdir "$BUILD/debs"
  # shellcheck disable=SC2086  # one package per word
  (cd "$BUILD/debs" && apt-get download $FOREIGN_LIBS) >"$BUILD/debs.log" 2>&1 ||
    { cat "$BUILD/debs.log" >&2; die "apt-get download $FOREIGN_LIBS failed"; }
  cp "$BUILD"/debs/*.deb "$root/tmp/"
  chroot "$root" sh -c 'dpkg -i /tmp/*.deb && rm /tmp/*.deb' >"$BUILD/dpkg.log" 2>&1 ||
    { cat "$BUILD/dpkg.log" >&2; die "dpkg -i of bookworm's libraries failed"; }
}

configure_rootfs() {
  local root=$1 g
  log "configuring the rootfs"
  echo cgtest > "$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 cgtest\n::1 localhost\n' > "$root/etc/hosts"
  echo '# the root disk is mounted rw by the initramfs' > "$root/etc/fstab"
  chroot "$root" passwd -d root >/dev/null           # for debugging on the serial console
  [ -s "$root/etc/machine-id" ] || chroot "$root" systemd-machine-id-setup >/dev/null
  for g in $DISABLE_UNITS; do chroot "$root" systemctl -q disable "$g" 2>/dev/null || true; done
  chroot "$root" systemctl -q mask $MASK_UNITS
  mkdir -p "$root/etc/systemd/system-generators" "$root/etc/systemd/journald.conf.d"
  for g in $MASK_GENERATORS; do
    ln -sf /dev/null "$root/etc/systemd/system-generators/systemd-$g-generator"
  done
  printf '[Journal]\nStorage=volatile\n' > "$root/etc/systemd/journald.conf.d/cgtest.conf"
}

# Unprivileged test user with a lingering user manager and password-less sudo.
add_test_user() {
  local root=$1
  chroot "$root" useradd -m -u 1500 -U -s /bin/bash -c "cgspawn test user" cgtest
  chroot "$root" usermod -p '*' cgtest             # no password, but not "locked" (ssh keys work)
  mkdir -p "$root/var/lib/systemd/linger"
  touch "$root/var/lib/systemd/linger/cgtest"
  echo 'cgtest ALL=(ALL:ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/cgtest"
  chmod 440 "$root/etc/sudoers.d/cgtest"
}

# Avocado in a venv of the guest's python3 (/opt/avocado), from $CGSPAWN_GUEST_AVOCADO (its
# unchanged source): built once with the image, not under TCG at every run.
install_avocado() {
  local root=$1
  [ -n "${CGSPAWN_GUEST_AVOCADO:-}" ] || return 0
  log "installing Avocado into /opt/avocado"
  cp "$CGSPAWN_GUEST_AVOCADO" "$root/tmp/avocado.tar.gz"
  chroot "$root" /usr/bin/python3 -m venv /opt/avocado
  chroot "$root" /opt/avocado/bin/pip -q --disable-pip-version-check install --no-index --no-build-isolation \
      --no-deps /tmp/avocado.tar.gz >"$BUILD/avocado.log" 2>&1 || { tail -20 "$BUILD/avocado.log" >&2; die "pip install of Avocado failed"; }
  rm -f "$root/tmp/avocado.tar.gz"
}

install_runner() {
  local root=$1
  install -m 755 "$HERE/guest-files/cgtest-run" "$root/usr/local/sbin/cgtest-run"
  install -m 644 "$HERE/guest-files/cgtest-run.service" "$HERE/guest-files/cgtest.target" \
      "$root/etc/systemd/system/"
}

# Module paths (relative to /lib/modules/$KVER) for the given modules and their deps.
module_files() {
  modprobe -S "$KVER" -a --show-depends "$@" | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
      sed "s|^/lib/modules/$KVER/||; s|^/usr/lib/modules/$KVER/||"
}

install_guest_modules() {
  local root=$1 dst=$1/lib/modules/$KVER f
  log "installing kernel modules for the guest"
  for f in $(module_files $INITRD_MODS $GUEST_MODS); do
    install -D -m 644 "/lib/modules/$KVER/$f" "$dst/$f"
  done
  cp /lib/modules/"$KVER"/modules.{order,builtin,builtin.modinfo} "$dst/"
  depmod -b "$root" "$KVER"
}

make_disk() {
  log "creating the ext4 image ($IMG_SIZE, sparse)"
  mkfs.ext4 -q -F -L cgroot -d "$1" "$BUILD/root.img" "$IMG_SIZE" >&2
}

# ---- kernel and initramfs ----------------------------------------------------

# QEMU can boot an ELF vmlinux directly (PVH), which skips decompressing the
# bzImage under TCG (~12 s). Find the compressed payload in the bzImage.
extract_vmlinux() {
  local bz=/boot/vmlinuz-$KVER magic tool off
  log "extracting vmlinux from $bz"
  for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08\x00'; do
    tool=${magic%%:*}
    for off in $(LC_ALL=C grep -obUaP "${magic#*:}" "$bz" | cut -d: -f1 | head -3); do
      tail -c +$((off + 1)) "$bz" | $tool -dc > "$BUILD/vmlinux" 2>/dev/null || true
      [ "$(head -c 4 "$BUILD/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && return 0
    done
  done
  die "could not extract an ELF vmlinux from $bz"
}

make_initramfs() {
  local ir=$BUILD/initramfs f
  log "building the initramfs"
  mkdir -p "$ir"/{bin,dev,proc,sys,newroot,lib/modules}
  cp "$ROOTFS/bin/busybox" "$ir/bin/busybox"            # static, from the guest's busybox-static
  install -m 755 "$HERE/guest-files/initramfs-init" "$ir/init"
  for f in $(module_files $INITRD_MODS); do              # dependency order = load order
    cp "/lib/modules/$KVER/$f" "$ir/lib/modules/"
    basename "$f" >> "$ir/lib/modules/order"
  done
  (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$BUILD/initrd.cpio.gz"
  rm -rf "$ir"
}

# ---- cache management --------------------------------------------------------

# Remove a build dir, first unmounting anything an interrupted debootstrap left
# mounted inside it (proc, sys, ...); never cross into another file system.
remove_build_dir() {
  local m
  for m in $(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" || true
  done
  rm -rf --one-file-system "$1"
}

is_complete() { [ -s "$1/root.img" ] && [ -s "$1/vmlinux" ] && [ -s "$1/initrd.cpio.gz" ] && [ -s "$1/recipe" ]; }

# Remove leftovers of interrupted builds and entries of other recipes.
# Called with the cache lock held, so no other build is in progress.
prune_cache() {
  local d
  for d in "$CACHE_ROOT"/.build-*; do [ -e "$d" ] && remove_build_dir "$d"; done
  for d in "$CACHE_ROOT"/*/; do
    d=${d%/}
    # This suite's older images, and those named before suites were (a bare hash).
    [[ ${d##*/} =~ ^($SUITE-)?[0-9a-f]{16}$ ]] && [ "${d##*/}" != "$SUITE-$HASH" ] &&
      { log "removing old image $d"; rm -rf "$d"; }
  done
  return 0
}

build() {
  BUILD=$(mktemp -d "$CACHE_ROOT/.build-$HASH.XXXXXX")
  trap 'remove_build_dir "$BUILD"' EXIT
  trap on_signal INT TERM
  # The rootfs tree lives in RAM (~300 MB): dpkg's fsyncs cost nothing there,
  # and dropping the tree afterwards does not wait for the disk.
  ROOTFS=$BUILD/rootfs
  mkdir "$ROOTFS"
  mount -t tmpfs -o size=3g,mode=0755 cgspawn-guest-rootfs "$ROOTFS"
  bootstrap_rootfs "$ROOTFS"
  install_foreign_libs "$ROOTFS"
  configure_rootfs "$ROOTFS"
  add_test_user "$ROOTFS"
  install_runner "$ROOTFS"
  install_avocado "$ROOTFS"
  install_guest_modules "$ROOTFS"
  make_disk "$ROOTFS"
  extract_vmlinux
  make_initramfs
  umount "$ROOTFS" && rmdir "$ROOTFS"
  recipe > "$BUILD/recipe"
  mv "$BUILD" "$IMG"                                    # atomic: the entry appears complete or not at all
  trap - EXIT INT TERM
  log "done: $IMG ($(du -sh "$IMG" | cut -f1) on disk)"
}

main() {
  [ "${1:-}" = --force ] && FORCE=1 || FORCE=
  [ "$(id -u)" = 0 ] || die "must run as root"
  ensure_host_pkgs
  KVER=$(kernel_version)
  HASH=$(recipe | sha256sum | cut -c1-16)
  IMG=$CACHE_ROOT/$SUITE-$HASH
  if [ -z "$FORCE" ] && is_complete "$IMG"; then echo "$IMG"; return 0; fi

  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/.lock"
  flock -w 1800 9 || die "timed out waiting for another build ($CACHE_ROOT/.lock)"
  if [ -n "$FORCE" ] || ! is_complete "$IMG"; then    # another build may have finished meanwhile
    rm -rf "$IMG"
    prune_cache
    build
  fi
  echo "$IMG"
}

main "$@"
