# SPDX-License-Identifier: MIT
# bash completion for cgspawn(1). Installed as .../bash-completion/completions/cgspawn.
# Kept in step with `cgspawn VERB --help`, docs/cli.md and docs/cgspawn.1 by
# tests/docs/test-cli-docs.sh. Self-contained: it needs bash only, and uses bash-completion's
# _command_offset after `--` when that is loaded (the program's own completion).

_cgspawn_verbs="run start status wait destroy list reap backends"
_cgspawn_global_options="--log-level --version --help"
_cgspawn_task_options="--backend --timeout --grace --memory-max --pids-max --cpu-max --env --chdir
  --label --parent --id --state-dir --user --unit-type --image --rootfs --keep-container --host
  --ssh-config --lease --on-leftovers --no-lineage --scratch --keep-scratch --scratch-root --private-tmp
  --private-ipc --no-hang-report"
# Options followed by a value: their value is not a verb, an id or `--`.
_cgspawn_value_options="--log-level --backend --timeout --grace --memory-max --pids-max --cpu-max
  --env --chdir --label --parent --id --state-dir --unit-type --image --rootfs --host --ssh-config
  --lease --result --stdout --stderr --on-leftovers --scratch-root"

# The long options of one verb (and `--` where a program follows).
_cgspawn_verb_options() {
  case $1 in
    run) echo "$_cgspawn_task_options --result --quiet --help --" ;;
    start) echo "$_cgspawn_task_options --stdout --stderr --bind-pid --json --help --" ;;
    status) echo "--json --state-dir --help" ;;
    wait) echo "--timeout --result --quiet --state-dir --help" ;;
    destroy) echo "--label --grace --json --state-dir --help" ;;
    list) echo "--json --label --state-dir --help" ;;
    reap) echo "--json --label --orphans --grace --state-dir --help" ;;
    backends) echo "--json --parent --state-dir --user --host --ssh-config --help" ;;
  esac
}

_cgspawn_takes_value() {
  [[ " ${_cgspawn_value_options//$'\n'/ } " == *" $1 "* ]]
}

_cgspawn_reply() {  # "words" -> COMPREPLY: those that start with $cur
  mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_cgspawn_reply_files() {  # -f or -d
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen "$1" -- "$cur")
}

# Task ids: the directories of the ledger (--state-dir on the line, $CGSPAWN_STATE_DIR, or the
# default of docs/cli.md).
_cgspawn_reply_ids() {
  local dir=${CGSPAWN_STATE_DIR:-} i
  for ((i = 1; i < COMP_CWORD - 1; i++)); do
    [[ ${COMP_WORDS[i]} == --state-dir ]] || continue
    dir=${COMP_WORDS[i + 1]}
    [[ $dir == = ]] && dir=${COMP_WORDS[i + 2]}
  done
  if [[ -z $dir ]]; then
    if [[ $EUID == 0 ]]; then dir=/run/cgspawn; else dir=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/cgspawn}; fi
  fi
  [[ -n $dir && -d $dir && -r $dir ]] || return 0
  local ids=() d
  for d in "$dir"/*/; do
    [[ -d $d ]] && ids+=("$(basename "$d")")
  done
  _cgspawn_reply "${ids[*]}"  # ids have no blanks ([A-Za-z0-9._-])
}

# The value of OPTION ($cur is being typed).
_cgspawn_reply_value() {
  case $1 in
    --backend) _cgspawn_reply "process systemd podman remote" ;;
    --unit-type) _cgspawn_reply "scope service" ;;
    --log-level) _cgspawn_reply "trace debug info warn error" ;;
    --lease) _cgspawn_reply "none" ;;
    --chdir | --rootfs | --state-dir | --parent) _cgspawn_reply_files -d ;;
    --result | --stdout | --stderr | --ssh-config) _cgspawn_reply_files -f ;;
    --host) mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur") ;;
    --image)
      command -v podman >/dev/null 2>&1 || return 0
      _cgspawn_reply "$(podman images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>')"
      ;;
    *) COMPREPLY=() ;;  # a duration, a size, NAME=VALUE, an id: nothing to offer
  esac
}

# After `--`: PROGRAM and its arguments, at word index $1.
_cgspawn_reply_program() {
  if declare -F _command_offset >/dev/null; then
    _command_offset "$1"
  elif ((COMP_CWORD == $1)); then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -c -- "$cur"; compgen -f -- "$cur")
  else
    _cgspawn_reply_files -f
  fi
}

_cgspawn() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev="" option="" verb="" i w
  COMPREPLY=()
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  # --opt=value: bash splits it at `=` (COMP_WORDBREAKS).
  if [[ $cur == = ]]; then
    option=$prev
    cur=""
  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
    option=${COMP_WORDS[COMP_CWORD - 2]}
  elif _cgspawn_takes_value "$prev"; then
    option=$prev
  fi

  # The verb, and where a program starts (the first `--` after the verb).
  local has_id=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if _cgspawn_takes_value "$w"; then
      ((i++))
      [[ ${COMP_WORDS[i]:-} == = ]] && ((i++))
      continue
    fi
    if [[ -z $verb ]]; then
      [[ $w != -* ]] && verb=$w
    elif [[ $w == -- ]] && [[ $verb == run || $verb == start ]]; then
      _cgspawn_reply_program $((i + 1))
      return 0
    elif [[ $w != -* ]]; then
      has_id=1
    fi
  done

  if [[ -n $option ]]; then
    _cgspawn_reply_value "$option"
    return 0
  fi
  if [[ -z $verb ]]; then
    if [[ $cur == -* ]]; then _cgspawn_reply "$_cgspawn_global_options"; else _cgspawn_reply "$_cgspawn_verbs"; fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    _cgspawn_reply "$(_cgspawn_verb_options "$verb")"
  elif [[ $has_id == 0 ]] && [[ $verb == status || $verb == wait || $verb == destroy ]]; then
    _cgspawn_reply_ids
  fi
  return 0
}

complete -F _cgspawn cgspawn
