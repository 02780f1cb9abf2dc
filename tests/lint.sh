#!/bin/bash
# lint.sh - static checks of the checkout, a tier of tests/run.sh. Each check is a function
# below, listed in `checks`; every check runs (one failing does not hide the others), and the
# script exits non-zero if any of them found something or could not run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# The remote agent is POSIX sh, run by dash or bash on the remote: no bashisms, no findings.
check_shellcheck_agent() {
  shellcheck -s sh src/backends/remote/agent.sh
}

checks=(check_shellcheck_agent)

failed=()
for check in "${checks[@]}"; do
  if "$check"; then echo "lint: $check: passed"; else echo "lint: $check: FAILED"; failed+=("$check"); fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "lint: FAILED: ${failed[*]}"; exit 1; fi
echo "lint: all ${#checks[@]} checks passed"
