#!/bin/bash
# SPDX-License-Identifier: MIT
# Every benchmark in its short mode (a few rounds, targets not checked): the test suite's check
# that they all still run, each backend's variant included. Usage (root): bench/short.sh BUILD_DIR
# Runs them all, then exits 1 if any failed, naming it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: bench/short.sh BUILD_DIR}
export BENCH_SHORT=1 SCALE_SHORT=1
failed=()
bench() {  # NAME COMMAND...
  local name=$1 t=$SECONDS
  shift
  echo "--- $name"
  "$@" || failed+=("$name")
  echo "--- $name: $((SECONDS - t)) s"
}
bench "run.sh (process backend, cgspawn run)" "$here/run.sh" "$build"
bench "bench_ledger.sh" "$here/bench_ledger.sh" "$build"
bench "bench_scale.sh (process)" "$here/bench_scale.sh" "$build"
bench "bench_scale.sh (remote)" env SCALE_BACKEND=remote "$here/bench_scale.sh" "$build"
bench "bench_remote.sh" "$here/bench_remote.sh" "$build"
bench "bench_podman.sh" "$here/bench_podman.sh" "$build"
bench "bench_avocado.sh" "$here/bench_avocado.sh" "$build"
bench "bench_systemd.sh (guest)" "$here/bench_systemd.sh" "$build"
bench "bench_scale.sh (systemd, guest)" env SCALE_BACKEND=systemd "$here/bench_scale.sh" "$build"
[ ${#failed[@]} = 0 ] && { echo "benchmarks, short mode: all ran"; exit 0; }
printf 'benchmarks, short mode: FAILED: %s\n' "${failed[@]}"
exit 1
