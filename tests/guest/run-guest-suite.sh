#!/bin/bash
# SPDX-License-Identifier: MIT
# run-guest-suite.sh [BUILD_DIR] [-- TEST_ARGS...]
#
# The guest tier: builds the guest image if needed (build-image.sh), boots it once
# (run-in-guest.sh) and runs meson's test suite 'guest' there (tests/guest/test_*.cc: limits
# and escapes on real systemd with pure cgroup v2). The guest has no meson, so the test's
# command and environment are taken from `meson introspect --tests` on the host and run
# directly, as `meson test --suite guest` would. TEST_ARGS go to the doctest binary
# (e.g. -tc='pids*').
#
# BUILD_DIR (default $CGSPAWN_TEST_BUILD, else <top>/build-tests) must be built and lie
# inside the git top-level, which the guest shares at the same path.
# Env: CGSPAWN_GUEST_SUITE (bookworm, the default, or trixie: build-image.sh),
#      CGSPAWN_GUEST_TESTS (names of the suite's tests to run, space separated; default all),
#      CGSPAWN_GUEST_TIMEOUT_SCALE (multiplies the tests' timeouts, default 1),
#      CGSPAWN_GUEST_SUITE_TIMEOUT (seconds for the whole VM, boot included, default 1500;
#        each test runs under guest-watchdog.sh, which stops one still running 120 s before
#        that limit, less the boot, with a report of what the guest was doing),
#      and those of build-image.sh / run-in-guest.sh.
# Exit: the suite's status; non-zero (never a skip) when the image cannot be built, the
# guest does not boot or report, or the build dir is unusable.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${CGSPAWN_TEST_BUILD:-$top/build-tests}
if [ $# -gt 0 ] && [ "$1" != -- ]; then build=$1; shift; fi
[ "${1:-}" = -- ] && shift
fail() { echo "*** GUEST TIER FAILED: $*" >&2; exit 1; }

[ -d "$build" ] || fail "no build directory $build"
build=$(realpath "$build")
case $build/ in "$top"/*) ;; *) fail "$build is not inside $top, which is what the guest shares" ;; esac

start=$(date +%s)
export CGSPAWN_GUEST_SUITE=${CGSPAWN_GUEST_SUITE:-bookworm}
only=${CGSPAWN_GUEST_TESTS:-}
# Avocado's source, installed into the image (/opt/avocado) when the guest-avocado test runs.
# Exported: run-in-guest.sh asks build-image.sh for the image again, with the same recipe.
if [ -z "$only" ] || [[ " $only " == *" guest-avocado "* ]]; then
  CGSPAWN_GUEST_AVOCADO=$("$here/../python/avocado-tarball.sh" "$build") ||
    fail "no Avocado 113.0 source for the guest-avocado test"
  export CGSPAWN_GUEST_AVOCADO
fi
"$here/build-image.sh" >/dev/null || fail "could not build the guest image (tests/guest/build-image.sh)"
t_image=$(date +%s)

# The suite's tests as meson would run them: one script, environment and command; and the
# programs they need (their command and the built programs named in their environment).
script=$build/tests/guest-suite.sh
ninja -C "$build" build.ninja >/dev/null || fail "meson could not regenerate $build"
meson introspect --tests "$build" | python3 -c '
import json, os, shlex, sys
build = sys.argv[1]
only = sys.argv[3].split()
tests = [t for t in json.load(sys.stdin)
         if any(s == "guest" or s.endswith(":guest") for s in t["suite"])
         and (not only or t["name"] in only)]
if not tests or (only and len(tests) != len(only)):
    sys.exit("the suite guest has no test %s" % (only or ""))
targets = {os.path.relpath(p, build) for t in tests for p in [t["cmd"][0], *t["env"].values()]
           if p.startswith(build + "/") and ":" not in p and not os.path.isdir(p)}
with open(sys.argv[2], "w") as f:
    f.write("\n".join(sorted(targets)) + "\n")
print("#!/bin/bash\nstatus=0\ndeadline=$((SECONDS + ${CGTEST_WATCHDOG_SECONDS:-1200}))")
for t in tests:
    env = " ".join(shlex.quote(k + "=" + v) for k, v in sorted(t["env"].items()))
    cmd = " ".join(shlex.quote(c) for c in t["cmd"])
    print("echo %s; t=$SECONDS" % shlex.quote("=== guest test " + t["name"]))
    print("if [ $SECONDS -ge $deadline ]; then echo %s; status=1"
          % shlex.quote("*** not started: the watchdog deadline of the suite has passed"))
    print("else %s $((deadline - SECONDS)) env %s %s \"$@\" || status=1; fi"
          % (shlex.quote(sys.argv[4]), env, cmd))
    print("echo %s\"$((SECONDS - t)) s\"" % shlex.quote("=== guest test " + t["name"] + ": "))
print("exit $status")
'  "$build" "$script.targets" "$only" "$here/guest-watchdog.sh" > "$script.tmp" || fail "meson introspect --tests $build: no such tests in the suite 'guest'"
mv "$script.tmp" "$script"
mapfile -t targets < "$script.targets"
rm -f "$script.targets"
targets+=(src/cgspawn-dbus.so)  # the D-Bus module the programs load (dlopen): no test names it
ninja -C "$build" "${targets[@]}" >/dev/null || fail "ninja -C $build ${targets[*]} failed"
t_built=$(date +%s)

suite_timeout=${CGSPAWN_GUEST_SUITE_TIMEOUT:-1500}
# The watchdog (guest-watchdog.sh) stops a hung test with a report before the VM's time limit
# would stop the guest without one: its deadline is 120 s short of that limit, counted from
# the suite's start in the guest, so the boot (20-40 s under TCG), the report and the power-off
# fit in the difference. A test not started by then is not started, and fails the suite.
envs=(-e "CGTEST_WATCHDOG_SECONDS=$((suite_timeout > 240 ? suite_timeout - 120 : suite_timeout / 2))")
[ -n "${CGSPAWN_GUEST_TIMEOUT_SCALE:-}" ] && envs+=(-e "CGSPAWN_GUEST_TIMEOUT_SCALE=$CGSPAWN_GUEST_TIMEOUT_SCALE")
# The case log (tests/check-coverage.sh) is in the build dir, which the guest shares.
[ -n "${CGSPAWN_CASE_LOG:-}" ] && envs+=(-e "CGSPAWN_CASE_LOG=$CGSPAWN_CASE_LOG" -e "CGSPAWN_PLACE=guest-$CGSPAWN_GUEST_SUITE")
rc=0
# --multi-user: the systemd tests use cgtest's user manager (logind, lingering).
(cd "$build" && "$here/run-in-guest.sh" --multi-user "${envs[@]}" -t "$suite_timeout" \
  -- bash "$script" "$@") || rc=$?
now=$(date +%s)
echo "guest tier ($CGSPAWN_GUEST_SUITE): exit $rc after $((now - start)) s (image $((t_image - start)) s, build $((t_built - t_image)) s, guest $((now - t_built)) s)"
case $rc in
  0) ;;
  125) fail "the guest did not boot or report a status (see the QEMU log and console above)" ;;
  *) fail "the suite failed in the guest (exit $rc)" ;;
esac
