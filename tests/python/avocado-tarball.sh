#!/bin/bash
# SPDX-License-Identifier: MIT
# avocado-tarball.sh BUILD_DIR: copies Avocado 113.0's source (unchanged, GPLv2; never part of
# this repository) into BUILD_DIR/third_party, where the guest sees it too, and prints its
# path. Looked for in $CGSPAWN_AVOCADO_TARBALL, then ../shared/third_party next to the checkout,
# then /work/shared/third_party. Fails loudly when it is nowhere.
set -euo pipefail
build=${1:?usage: avocado-tarball.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
name=avocado-framework-113.0.tar.gz
for candidate in "${CGSPAWN_AVOCADO_TARBALL:-}" "$top/../shared/third_party/$name" "/work/shared/third_party/$name"; do
  [ -n "$candidate" ] && [ -f "$candidate" ] || continue
  mkdir -p "$build/third_party"
  cmp -s "$candidate" "$build/third_party/$name" || cp "$candidate" "$build/third_party/$name"
  echo "$build/third_party/$name"
  exit 0
done
echo "avocado-tarball: FAILED: $name not found (set CGSPAWN_AVOCADO_TARBALL)" >&2
exit 1
