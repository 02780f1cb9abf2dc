#!/bin/bash
# SPDX-License-Identifier: MIT
# guest-avocado.sh: in the guest (real systemd), Avocado with --spawner cgspawn and
# `backend = systemd`: each task in a transient scope of the system manager, and `pids_max`
# read back from it (test_avocado.py's "guest" and "limits"). Run as a test of
# the suite 'guest' (tests/guest/run-guest-suite.sh), with this build's library in
# $CGSPAWN_LIBRARY and supervisor in $CGSPAWN_SUPERVISOR. Avocado is the image's
# (/opt/avocado, installed with it from the unchanged source); the cgspawn package is installed
# into it here, as docs/python.md says.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=/opt/avocado
[ -x "$venv/bin/avocado" ] || { echo "guest-avocado: FAILED: no Avocado in $venv (build-image.sh installs it)" >&2; exit 1; }
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r "$here/../../python/." "$src/"
"$venv/bin/pip" -q --disable-pip-version-check install --no-index --no-build-isolation --no-deps "$src" 2>&1 |
  grep -v -e DEPRECATION -e '^$' || true
# TCG runs Python 20-40x slower: the task timeout grows with it (the SIGTERM ignorer must still
# outlive it, and the test that ends by itself must end before it).
export CGSPAWN_VENV=$venv CGSPAWN_CASE_TIMEOUT=900 CGSPAWN_CASE_TIMEOUT_SCALE=10
cd "$here"
"$venv/bin/python" test_avocado.py --backend systemd --only guest,limits
