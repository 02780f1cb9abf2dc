#!/bin/bash
# SPDX-License-Identifier: MIT
# guest-avocado.sh TARBALL: in the guest (real systemd), Avocado with --spawner cgspawn and
# `backend = systemd`: each task in a transient scope of the system manager. Run as a test of
# the suite 'guest' (tests/guest/run-guest-suite.sh), with this build's library in
# $CGSPAWN_LIBRARY and supervisor in $CGSPAWN_SUPERVISOR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tarball=${1:?usage: guest-avocado.sh TARBALL}
[ -f "$tarball" ] || { echo "guest-avocado: FAILED: no $tarball (run-guest-suite.sh copies it)" >&2; exit 1; }
venv=$(mktemp -d /tmp/cgspawn-guest-venv.XXXXXX)
trap 'rm -rf "$venv"' EXIT
"$here/make-venv.sh" "$venv" "$tarball"
export CGSPAWN_VENV=$venv CGSPAWN_CASE_TIMEOUT=900
cd "$here"
"$venv/bin/python" test_avocado.py --backend systemd --only background,term-ignorer
