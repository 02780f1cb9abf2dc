#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installable: `meson install` into a DESTDIR puts the CLI, the shared library (with
# its soname link), the headers, cgspawn.pc, the man page and the bash completion in place, and
# a consumer builds against them with nothing but `pkg-config --cflags --libs cgspawn`. Never
# touches the real prefix.
# Usage: test-install.sh BUILD_DIR
set -euo pipefail

build=${1:?usage: test-install.sh BUILD_DIR}
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cgspawn-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

# The configured directories (relative ones are under prefix).
opts=$(meson introspect --buildoptions "$build") || fail "meson introspect --buildoptions $build"
dir() {
  local v p
  v=$(jq -r --arg n "$1" '.[] | select(.name == $n) | .value' <<<"$opts")
  p=$(jq -r '.[] | select(.name == "prefix") | .value' <<<"$opts")
  [[ -n $v ]] || fail "no option $1 in $build"
  case $v in /*) echo "$dest$v" ;; *) echo "$dest$p/$v" ;; esac
}
bindir=$(dir bindir)
libdir=$(dir libdir)
includedir=$(dir includedir)
mandir=$(dir mandir)
datadir=$(dir datadir)
version=$(meson introspect --projectinfo "$build" | jq -r .version)

# --no-rebuild: install what `meson test` built (the test depends on the installed targets).
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log" >&2; fail "meson install --destdir failed"; }

[[ -x $bindir/cgspawn ]] || fail "CLI not installed at $bindir/cgspawn"
"$bindir/cgspawn" --help >/dev/null 2>&1 || fail "installed CLI $bindir/cgspawn does not run"
[[ -f $libdir/libcgspawn.so.$version ]] || fail "no $libdir/libcgspawn.so.$version"
[[ -L $libdir/libcgspawn.so.0 ]] || fail "no soname link $libdir/libcgspawn.so.0"
[[ -e $libdir/libcgspawn.so ]] || fail "no development link $libdir/libcgspawn.so"
soname=$(objdump -p "$libdir/libcgspawn.so.$version" | awk '$1 == "SONAME" { print $2 }')
[[ $soname == libcgspawn.so.0 ]] || fail "library's SONAME is '$soname', not libcgspawn.so.0"
for h in cgspawn.hpp version.hpp spawner.hpp backends.hpp; do
  [[ -f $includedir/cgspawn/$h ]] || fail "header not installed: $includedir/cgspawn/$h"
done
[[ -f $mandir/man1/cgspawn.1 ]] || fail "man page not installed at $mandir/man1/cgspawn.1"
[[ -f $datadir/bash-completion/completions/cgspawn ]] \
  || fail "bash completion not installed at $datadir/bash-completion/completions/cgspawn"
# Exactly the C ABI and the public C++ API are exported: nothing of the internals (they are
# built hidden), nor the standard library's instantiations.
exported=$(nm -D --defined-only "$libdir/libcgspawn.so.$version" | awk '{ print $3 }')
[[ $(grep -c '^cgspawn_' <<<"$exported") -ge 16 ]] || fail "the C ABI is not exported: $(grep '^cgspawn_' <<<"$exported" | tr '\n' ' ')"
others=$(grep -v '^cgspawn_' <<<"$exported" | c++filt | grep -v -E '^(typeinfo (name )?for |vtable for )?cgspawn::' || true)
[[ -z $others ]] || fail "exported beyond the API: $(head -5 <<<"$others" | tr '\n' ';')"
internal=$(grep -v '^cgspawn_' <<<"$exported" | c++filt | grep -E 'cgspawn::(dbus|remote|systemd|sys|cli)::|cgspawn::(SpawnedTask|SpawnTransaction|Cgroup|Boundary|MainProcess|HeldChild)\b' || true)
[[ -z $internal ]] || fail "internal symbols exported: $(head -5 <<<"$internal" | tr '\n' ';')"
[[ -f $includedir/cgspawn/cgspawn.h ]] || fail "the C ABI's header is not installed"
# The D-Bus module (src/dbus/module.hpp) lies in <libdir>/cgspawn, which is the RUNPATH of the
# installed programs and library (the build tree's is gone), and only it maps sdbus-c++ and
# libsystemd: a process that never talks to systemd does not load them.
module_dir=$libdir/cgspawn
module=$module_dir/cgspawn-dbus.so
[[ -f $module ]] || fail "the D-Bus module is not installed at $module"
entries=$(nm -D --defined-only "$module" | awk '{ print $3 }' | sort | tr '\n' ' ')
[[ $entries == "cgspawn_dbus_connect cgspawn_dbus_version " ]] || fail "the D-Bus module exports $entries"
for f in "$bindir/cgspawn" "$(dir libexecdir)/cgspawn-supervisor" "$libdir/libcgspawn.so.$version"; do
  runpath=$(readelf -d "$f" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p')
  [[ $runpath == "${module_dir#"$dest"}" ]] || fail "$f has the RUNPATH '$runpath', not ${module_dir#"$dest"}"
  needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | tr '\n' ' ')
  [[ $needed != *sdbus* && $needed != *libsystemd* ]] || fail "$f links the D-Bus stack itself: $needed"
done
pc=$libdir/pkgconfig/cgspawn.pc
[[ -f $pc ]] || fail "pkg-config file not installed at $pc"

# A consumer outside the source tree. The .pc file names the real prefix: the sysroot maps its
# -I/-L into DESTDIR; the system's own .pc files (for Requires.private) stay on the default path.
cat >"$tmp/consumer.cc" <<'EOF'
#include <cgspawn/cgspawn.hpp>
#include <iostream>
int main() {
  std::cout << "version " << cgspawn::version << "\n";
  for (const auto& name : cgspawn::backend_names()) std::cout << "backend " << name << "\n";
}
EOF
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
flags=$(pkg-config --cflags --libs cgspawn) || fail "pkg-config --cflags --libs cgspawn failed"
[[ $flags == *-std=c++20* ]] || fail "pkg-config flags do not ask for C++20: $flags"
# shellcheck disable=SC2086  # the flags are words
"${CXX:-c++}" -o "$tmp/consumer" "$tmp/consumer.cc" $flags >"$tmp/cc.log" 2>&1 \
  || { cat "$tmp/cc.log" >&2; fail "consumer does not build with: $flags"; }
# ldd's whole output first: `ldd | grep -q` under pipefail fails when grep's early exit
# leaves ldd a SIGPIPE (it did, one run in a few).
deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/consumer")
grep -q "=> $libdir/libcgspawn.so.0 " <<<"$deps" \
  || fail "consumer does not load $libdir/libcgspawn.so.0: $(tr '\n' ';' <<<"$deps")"
out=$(LD_LIBRARY_PATH=$libdir "$tmp/consumer") || fail "consumer exited $?"
grep -qx "version $version" <<<"$out" || fail "consumer printed no 'version $version': $out"
grep -qx "backend process" <<<"$out" || fail "consumer's backend_names() lacks process: $out"

# The complete example of docs/library.md builds against the installed library as it stands
# there, and runs: a real task whose daemon is destroyed, with a ledger of the test's own.
doc=$(dirname "$0")/../../docs/library.md
awk '/<!-- example: library_example.cc -->/ { found = 1; next }
     found && /^```cpp$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$doc" >"$tmp/example.cc"
[[ -s $tmp/example.cc ]] || fail "no example after '<!-- example: library_example.cc -->' in $doc"
# shellcheck disable=SC2086  # the flags are words
"${CXX:-c++}" -Wall -Wextra -Werror -o "$tmp/example" "$tmp/example.cc" $flags >"$tmp/ex.log" 2>&1 \
  || { cat "$tmp/ex.log" >&2; fail "the example of docs/library.md does not build"; }
mkdir -m 0700 "$tmp/ledger"
ex=$(CGSPAWN_STATE_DIR=$tmp/ledger LD_LIBRARY_PATH=$libdir "$tmp/example" 2>&1) \
  || fail "the example of docs/library.md exited $?: $ex"
grep -q "exited with exit code 3" <<<"$ex" || fail "the example's Result lacks exit code 3: $ex"
grep -q "    killed " <<<"$ex" || fail "the example's report does not name the killed daemon: $ex"
# The parent cgroups it used stay listed, and the ledger's index (.index) stays.
left=$(find "$tmp/ledger" -mindepth 1 -maxdepth 1 ! -name parents ! -name '.*')
[[ -z $left ]] || fail "the example left records in its ledger: $left"
echo "test-install: ok ($(wc -l <<<"$out") lines from the consumer, the docs' example ran; flags: $flags)"
