#!/bin/bash
# SPDX-License-Identifier: MIT
# run-python-suite.sh BUILD_DIR: the Python tier. A venv of Debian's python3 with Avocado
# 113.0 and the cgspawn package installed offline (make-venv.sh), then, against this build's
# library: the package's own tests (test_binding.py), and Avocado with --spawner cgspawn on the
# leaking test bodies, with --spawner process as the control (test_avocado.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "${1:?usage: run-python-suite.sh BUILD_DIR}")
fail() { echo "*** PYTHON TIER FAILED: $*" >&2; exit 1; }
[ -x /usr/bin/python3 ] || fail "no /usr/bin/python3 (Debian's python3)"
[ -f "$build/src/libcgspawn.so" ] || fail "no $build/src/libcgspawn.so: build first"
tarball=$("$here/avocado-tarball.sh" "$build") || fail "no Avocado 113.0 source"
venv=$build/python-venv
"$here/make-venv.sh" "$venv" "$tarball" || fail "could not install Avocado and cgspawn into $venv"
export CGSPAWN_VENV=$venv CGSPAWN_LIBRARY=$build/src/libcgspawn.so CGSPAWN_SUPERVISOR=$build/tools/cgspawn-supervisor
cd "$here"
status=0
"$venv/bin/python" -W error::ResourceWarning test_binding.py || status=1
"$venv/bin/python" test_avocado.py --control || status=1
exit $status
