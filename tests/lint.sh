#!/bin/bash
# SPDX-License-Identifier: MIT
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

# Every other shell script of the checkout (the tiers, the labs, the benches): no warnings.
check_shellcheck_scripts() {
  git ls-files '*.sh' '*.bash' | grep -vx src/backends/remote/agent.sh | xargs shellcheck -S warning
}

# Every C++ file of the checkout as the checked-in .clang-format has it (Debian 12's
# clang-format 14: another version may format otherwise). Fix with:
#   git ls-files '*.cc' '*.hpp' '*.h' '*.c' | xargs clang-format -i
check_clang_format() {
  local bad
  bad=$(git ls-files '*.cc' '*.hpp' '*.h' '*.c' | while read -r f; do
    clang-format --style=file "$f" | cmp -s - "$f" || echo "$f"
  done)
  [ -z "$bad" ] && return 0
  echo "lint: not formatted (clang-format -i FILE):"
  echo "$bad" | sed 's/^/  /'
  return 1
}

# Every source file names its license.
check_spdx() {
  local missing
  missing=$(git ls-files '*.cc' '*.hpp' '*.h' '*.c' '*.sh' '*.py' '*.bash' 'meson.build' '*/meson.build' |
    xargs grep -L 'SPDX-License-Identifier: MIT' || true)
  [ -z "$missing" ] && return 0
  echo "lint: no SPDX-License-Identifier line:"
  echo "$missing" | sed 's/^/  /'
  return 1
}

# Log lines go through logger() (src/util/logger.hpp, on stderr), never spdlog's default logger,
# which writes to the stdout that carries a task's output (docs/coding-guidelines.md).
check_logger() {
  local found
  found=$(git ls-files 'src/*.cc' 'src/*.hpp' 'tools/*.cc' 'tools/*.hpp' |
    xargs grep -nE 'spdlog::(trace|debug|info|warn|error|critical|log)\(' || true)
  [ -z "$found" ] && return 0
  echo "lint: spdlog's default logger (stdout) used; log through logger():"
  echo "$found" | sed 's/^/  /'
  return 1
}

checks=(check_shellcheck_agent check_shellcheck_scripts check_clang_format check_spdx check_logger)

failed=()
for check in "${checks[@]}"; do
  if "$check"; then echo "lint: $check: passed"; else echo "lint: $check: FAILED"; failed+=("$check"); fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "lint: FAILED: ${failed[*]}"; exit 1; fi
echo "lint: all ${#checks[@]} checks passed"
