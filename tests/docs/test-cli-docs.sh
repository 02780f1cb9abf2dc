#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CLI's documentation in step with the CLI itself: every verb of `cgspawn --help` and every
# long option of `cgspawn VERB --help` must be in the man page (docs/cgspawn.1, in that verb's
# section), in docs/cli.md (in that verb's section) and in the bash completion (offered after
# `cgspawn VERB --`). An option added to the CLI and not to all three fails here, naming it.
# Also: the man page formats without a groff warning, the completion parses, and it completes
# a few inputs as it should (COMP_WORDS/COMP_CWORD set by hand, as readline would).
# Usage: test-cli-docs.sh CGSPAWN_BINARY SOURCE_DIR
set -euo pipefail

cgspawn=${1:?usage: test-cli-docs.sh CGSPAWN_BINARY SOURCE_DIR}
src=${2:?usage: test-cli-docs.sh CGSPAWN_BINARY SOURCE_DIR}
man=$src/docs/cgspawn.1
md=$src/docs/cli.md
completion=$src/tools/completion/cgspawn.bash

failures=0
fail() {
  echo "test-cli-docs: FAIL: $*" >&2
  failures=$((failures + 1))
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cgspawn-cli-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- the CLI's own word (CLI11's help) ------------------------------------------------------

# The lines of one section ("Options:", "Subcommands:") of a CLI11 help text on stdin. An entry
# starts at column 2; its description may continue on the next lines, indented further.
help_section() {
  awk -v want="$1" '/^[^ ].*:$/ { on = ($0 == want); next } on && /^  [^ ]/ { print $1 }'
}
# The long names of the options in a help text: "-q,--quiet" gives --quiet.
long_options() {
  help_section "Options:" | tr ',' '\n' | grep -E '^--[a-z]' || true
}
# Every name of every option of a help text, an option a line: "-q,--quiet" gives "-q --quiet".
option_names() {
  help_section "Options:" | tr ',' ' '
}

top_help=$("$cgspawn" --help) || { echo "test-cli-docs: FAIL: $cgspawn --help failed" >&2; exit 1; }
mapfile -t verbs < <(help_section "Subcommands:" <<<"$top_help")
mapfile -t global_options < <(long_options <<<"$top_help")
((${#verbs[@]} >= 8)) || fail "found only ${#verbs[@]} verbs in \`cgspawn --help\`: ${verbs[*]}"
((${#global_options[@]} >= 3)) || fail "found only ${#global_options[@]} options in \`cgspawn --help\`"
declare -A verb_help
for verb in "${verbs[@]}"; do
  verb_help[$verb]=$("$cgspawn" "$verb" --help) || fail "\`cgspawn $verb --help\` failed"
done

# --- the documents, as text to search -------------------------------------------------------

# The man page as plain words: \- is -, font changes go.
man_text() {
  sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\&//g' "$man"
}
# One section of the man page: from a `.SH`/`.SS` line whose title starts with $1 up to the next
# heading of that level or above.
man_section() {  # title
  man_text | awk -v t="$1" '
    /^\.S[HS] / { title = $0; sub(/^\.S[HS] +"?/, "", title)
                  if (on && ($1 == ".SH" || level == ".SS")) on = 0
                  if (index(title, t) == 1 && (length(title) == length(t) || substr(title, length(t) + 1, 1) ~ /[ "]/)) {
                    on = 1; level = $1 }
                  next }
    on'
}
# One section of docs/cli.md: from a `## ` heading starting with $1 up to the next `## `.
md_section() {  # heading prefix
  awk -v h="## $1" '/^## / { on = (index($0, h) == 1) } on' "$md"
}
# Does TEXT name WORD (an option, a verb) as a whole word? And is WORD one of TEXT's lines?
# (Bash's own matching: a grep per check made the test take seconds on a loaded machine.)
names() {  # word text
  local re="(^|[^A-Za-z0-9_-])${1//./\\.}([^A-Za-z0-9_-]|\$)"
  [[ $2 =~ $re ]]
}
has_line() {  # word text
  [[ $'\n'$2$'\n' == *$'\n'"$1"$'\n'* ]]
}

# Where a verb's options may be documented. The task options of run and start have a section of
# their own in both documents (the man page's verb sections say "Takes the TASK OPTIONS"; the
# cli.md section is headed "Task options (`run` and `start`)"); cli.md's "The ledger" documents
# --state-dir, which every verb has.
man_verb_text() {
  local verb=$1 text
  text=$(man_section "$verb")
  printf '%s\n' "$text"
  if [[ $text == *"TASK OPTIONS"* ]]; then man_section "TASK OPTIONS"; fi
}
md_verb_text() {
  local verb=$1
  md_section "\`cgspawn $verb"
  local heading
  heading=$(grep -m1 '^## Task options' "$md" || true)
  if [[ $heading == *"\`$verb\`"* ]]; then md_section "Task options"; fi
  md_section "The ledger"
}

# --- the completion, run as readline would run it --------------------------------------------

bash -n "$completion" || fail "$completion: bash -n finds a syntax error"

# The candidates for the command line "$@" (the last word is the one being completed), one a
# line, from a clean bash (no bash-completion loaded) in an empty directory of our own.
complete_line() {
  mkdir -p "$tmp/cwd"
  # shellcheck disable=SC2016  # the script is the inner bash's, expanded there
  (cd "$tmp/cwd" && env -u CGSPAWN_STATE_DIR bash --norc --noprofile -c '
    source "$1" || exit 1
    spec=$(complete -p cgspawn 2>/dev/null) || { echo "no completion registered for cgspawn" >&2; exit 1; }
    [[ $spec =~ -F\ ([^ ]+) ]] || { echo "no completion function in: $spec" >&2; exit 1; }
    shift
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "${BASH_REMATCH[1]}" cgspawn "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$@") | sort -u
}
# Checks that completing "$@" offers WANTED (every word of it) and nothing of UNWANTED.
expect_completion() {  # "wanted words" "unwanted words" words...
  local wanted=$1 unwanted=$2 got w
  shift 2
  got=$(complete_line "$@") || { fail "completing \`$*<TAB>\` failed"; return; }
  for w in $wanted; do
    has_line "$w" "$got" || fail "completing \`$*<TAB>\` does not offer $w (offers: ${got//$'\n'/ })"
  done
  for w in $unwanted; do
    has_line "$w" "$got" && fail "completing \`$*<TAB>\` offers $w, which it should not (offers: ${got//$'\n'/ })"
  done
  return 0
}

# --- verbs -------------------------------------------------------------------------------------

offered_verbs=$(complete_line cgspawn "") || fail "completing \`cgspawn <TAB>\` failed"
man_synopsis=$(man_section SYNOPSIS)
for verb in "${verbs[@]}"; do
  [[ -n $(man_section "$verb") ]] || fail "verb $verb: no section (.SS $verb) in $man"
  has_line ".B $verb" "$man_synopsis" || fail "verb $verb: not in the SYNOPSIS of $man"
  [[ -n $(md_section "\`cgspawn $verb") ]] || fail "verb $verb: no section (## \`cgspawn $verb ...\`) in $md"
  has_line "$verb" "$offered_verbs" || fail "verb $verb: not offered by $completion after \`cgspawn \`"
done
for verb in $offered_verbs; do
  [[ " ${verbs[*]} " == *" $verb "* ]] || fail "$completion offers a verb $verb that \`cgspawn --help\` does not list"
done

# --- options -------------------------------------------------------------------------------------

# Global options (before the verb).
offered=$(complete_line cgspawn --) || fail "completing \`cgspawn --<TAB>\` failed"
man_global=$(man_section "GLOBAL OPTIONS")
for option in "${global_options[@]}"; do
  names "$option" "$man_global" || fail "option $option (global): not in GLOBAL OPTIONS of $man"
  # cli.md leaves out CLI11's own --help (of every verb and of cgspawn itself).
  [[ $option == --help ]] || names "$option" "$(<"$md")" || fail "option $option (global): not in $md"
  has_line "$option" "$offered" || fail "option $option (global): not offered by $completion after \`cgspawn --\`"
done

for verb in "${verbs[@]}"; do
  mapfile -t options < <(long_options <<<"${verb_help[$verb]}")
  mapfile -t names_of < <(option_names <<<"${verb_help[$verb]}")
  ((${#options[@]} >= 2)) || fail "verb $verb: found only ${#options[@]} options in \`cgspawn $verb --help\`"
  man_verb=$(man_verb_text "$verb")
  md_verb=$(md_verb_text "$verb")
  offered=$(complete_line cgspawn "$verb" --) || fail "completing \`cgspawn $verb --<TAB>\` failed"
  for option in "${options[@]}"; do
    # The man page documents CLI11's --help once, under GLOBAL OPTIONS, for every verb.
    [[ $option == --help ]] && man_options=$man_global || man_options=$man_verb
    names "$option" "$man_options" || fail "option $option of $verb: not in the $verb section of $man"
    # cli.md: the option under any of its names (it writes -q for -q,--quiet); not --help.
    if [[ $option != --help ]]; then
      found=0
      for line in "${names_of[@]}"; do
        [[ " $line " == *" $option "* ]] || continue
        for name in $line; do
          names "$name" "$md_verb" && found=1
        done
      done
      ((found)) || fail "option $option of $verb: not in the $verb section of $md"
    fi
    has_line "$option" "$offered" || fail "option $option of $verb: not offered by $completion after \`cgspawn $verb --\`"
  done
  # The other way round: the completion offers no option the verb does not have.
  for option in $offered; do
    [[ $option == -- ]] && continue
    [[ " ${options[*]} " == *" $option "* ]] || fail "$completion offers $option for $verb, which \`cgspawn $verb --help\` does not list"
  done
done

# --- the completion, by example ------------------------------------------------------------

expect_completion "run" "reap start" cgspawn ru
expect_completion "--backend" "" cgspawn run --back
expect_completion "process systemd podman remote" "" cgspawn run --backend ""
expect_completion "podman" "process" cgspawn run --backend = po  # --backend=po, split at =
expect_completion "scope service" "" cgspawn start --backend systemd --unit-type ""
expect_completion "trace debug info warn error" "" cgspawn --log-level ""
expect_completion "status" "" cgspawn --log-level debug st
expect_completion "--timeout --result --quiet" "--backend" cgspawn wait some-id --
for backend in process systemd podman remote; do
  names "$backend" "${verb_help[run]}" || fail "\`cgspawn run --help\` does not name the backend $backend the completion offers"
done
# Paths: a directory for --chdir, files for --result.
mkdir -p "$tmp/cwd/somedir" && touch "$tmp/cwd/somefile"
expect_completion "somedir" "somefile" cgspawn run --chdir some
expect_completion "somedir somefile" "" cgspawn run --result some
expect_completion "somedir" "somefile" cgspawn backends --state-dir some
# After `--` the words are the program's: commands, then files; never cgspawn's options.
expect_completion "echo" "" cgspawn run --backend podman -- ech
expect_completion "somefile" "" cgspawn run -- ls some
expect_completion "" "--backend --timeout --help --" cgspawn run -- ls --
expect_completion "" "--backend --stdout" cgspawn start -- sh --
# Task ids from the ledger (--state-dir on the line).
mkdir -p "$tmp/ledger/task-one"
expect_completion "task-one" "" cgspawn status --state-dir "$tmp/ledger" ""

# --- the man page formats cleanly ----------------------------------------------------------

if command -v groff >/dev/null; then
  warnings=$(groff -man -ww -z "$man" 2>&1) || fail "groff -man -z $man failed: $warnings"
  [[ -z $warnings ]] || fail "groff -man -ww warns about $man: $warnings"
else
  fail "groff not found (tools/install-deps.sh --tests installs groff-base): cannot check $man"
fi

if ((failures)); then
  echo "test-cli-docs: $failures problem(s): the man page, docs/cli.md and the completion must follow the CLI" >&2
  exit 1
fi
echo "test-cli-docs: ${#verbs[@]} verbs and their options in $man, $md and $completion"
