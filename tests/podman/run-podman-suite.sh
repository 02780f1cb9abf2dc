#!/bin/bash
# SPDX-License-Identifier: MIT
# run-podman-suite.sh BUILD_DIR - the podman tier: lab-up (fails loudly when podman cannot be
# set up here), the 'podman' meson suite against it, then lab-down ALWAYS (trap), which also
# checks that nothing of the lab is left. Exit 0 only if the suite passed and lab-down was clean.
# Shares selftest.sh's lock, so two users of the one lab never tear it down under each other.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:?usage: run-podman-suite.sh BUILD_DIR}
export CGSPAWN_PODMAN_CGROUP_ROOTS=/cgspawn-podtest   # the test's --parent root, cleaned by lab-down

exec 9<"$HERE/selftest.sh"; flock -w 900 9 || { echo "run-podman-suite: the podman lab is busy" >&2; exit 2; }

down() { "$HERE/lab-down.sh" || { echo "run-podman-suite: lab-down left something (see above)" >&2; return 1; }; }
status=1
trap 'down || status=1; exit $status' EXIT
trap 'exit 1' INT TERM

if ! env_lines=$("$HERE/lab-up.sh"); then
  echo "run-podman-suite: FAILED: the podman lab could not be set up (lab-up.sh, above)" >&2
  exit 1
fi
eval "$env_lines"
meson test -C "$BUILD" --suite podman --print-errorlogs && status=0
