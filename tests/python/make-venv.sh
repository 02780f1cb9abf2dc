#!/bin/bash
# SPDX-License-Identifier: MIT
# make-venv.sh VENV TARBALL: a venv of Debian's own python3 (no system site-packages), with
# Avocado from TARBALL and the cgspawn package from python/, installed offline exactly as
# docs/python.md tells a user: pip install --no-index --no-build-isolation --no-deps.
set -euo pipefail
venv=${1:?usage: make-venv.sh VENV TARBALL}
tarball=${2:?usage: make-venv.sh VENV TARBALL}
top=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
pip() { "$venv/bin/pip" --disable-pip-version-check -q install --no-index --no-build-isolation --no-deps "$@"; }
pip "$tarball" 2>&1 | grep -v -e DEPRECATION -e '^$' || true
# A copy: pip's legacy install builds in the source directory, which must stay clean.
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r "$top/python/." "$src/"
pip "$src" 2>&1 | grep -v -e DEPRECATION -e '^$' || true
"$venv/bin/avocado" --version >/dev/null
"$venv/bin/python" -c 'import cgspawn_avocado, cgspawn' 2>/dev/null || "$venv/bin/python" -c 'import cgspawn_avocado'
