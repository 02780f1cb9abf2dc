#!/bin/bash
# SPDX-License-Identifier: MIT
# check-coverage.sh BUILD_DIR CASE_LOG: every test case of every test binary ran, not skipped,
# in at least one place (the host, or a guest). The binaries write CASE_LOG as they run
# (tests/support/case_log.hpp); a case that cannot apply somewhere is skipped there with its
# reason, and must then have run elsewhere. Prints every skip with its reason, and each case that
# ran nowhere; exit 1 when there is one.
set -euo pipefail
build=${1:?usage: check-coverage.sh BUILD_DIR CASE_LOG}
log=${2:?usage: check-coverage.sh BUILD_DIR CASE_LOG}
[ -f "$log" ] || { echo "check-coverage: FAILED: no case log $log (did the tiers run with CGSPAWN_CASE_LOG?)" >&2; exit 1; }
binaries=(cgspawn-unit-tests cgspawn-host-tests cgspawn-host-ledger cgspawn-test-leftovers cgspawn-podman-tests
          cgspawn-remote-tests cgspawn-guest-tests cgspawn-guest-systemd)
expected=$(mktemp)
trap 'rm -f "$expected"' EXIT
for bin in "${binaries[@]}"; do
  [ -x "$build/tests/$bin" ] || { echo "check-coverage: FAILED: no $build/tests/$bin" >&2; exit 1; }
  "$build/tests/$bin" --list-test-cases --no-version 2>/dev/null |
    awk -v bin="$bin" '/^===/ { section++; next } section == 1 && NF { print bin "\t" $0 }' >>"$expected"
done
echo "skipped, with the reason (each must have run in another place):"
awk -F'\t' '$1 == "SKIP" { printf "  %s, %s: %s: %s\n", $2, $3, $4, $5 }' "$log" | sort -u
missing=$(awk -F'\t' 'FNR == NR { if ($1 == "RAN") ran[$3 "\t" $4] = 1; next } !(($1 "\t" $2) in ran) { print "  " $1 ": " $2 }' \
  "$log" "$expected")
total=$(wc -l <"$expected")
if [ -n "$missing" ]; then
  echo "check-coverage: FAILED: these cases ran nowhere (skipped everywhere, or not run at all):"
  echo "$missing"
  exit 1
fi
echo "check-coverage: all $total test cases ran in at least one place"
