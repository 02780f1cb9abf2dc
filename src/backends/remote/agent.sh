# SPDX-License-Identifier: MIT
# The remote agent, sent over ssh on every call (nothing is installed on the remote). POSIX sh:
# the remote's sh may be dash or bash. Embedded into the library at build time from its first
# line of code on (src/backends/remote/embed_agent.py: this comment block is not sent), and run
# as ONE argument after `ssh ... --`:
#
#   sh -c SCRIPT cgspawn-agent MARK probe
#   sh -c SCRIPT cgspawn-agent - run NAME LEASE_S CWD LIMITS RUNTIME_MAX_S SCRATCH ISOLATE NENV [NAME=VALUE...] -- ARGV...
#   sh -c SCRIPT cgspawn-agent MARK kill NAME GRACE_MS VERIFY_MS [UNIT]
#   sh -c SCRIPT cgspawn-agent MARK standby NAME
#   sh -c SCRIPT cgspawn-agent MARK scratch-rm PATH
#
# Every line meant for cgspawn starts with MARK (a nonce per call): login-shell noise and the
# task's own output are never taken for a reply. run's MARK ("-" in its place above) is the
# first line of its stdin, and the wrapper's is a here-document: on no command line, which
# every process of the remote can read, the task among them (its stderr is the stream the
# mark guards). `run` writes its lines on stderr (stdout is
# the task's), `probe` and `kill` on stdout. A call that cannot start says ERR and exits 125.
# LIMITS is "-" or "mem=BYTES,pids=N,cpu=PERCENT" (any of them); RUNTIME_MAX_S is 0 or the
# outer bound a systemd unit gets (RuntimeMaxSec), or an installed cgspawn (--timeout).
#
# SCRATCH is "-" or the task's scratch directory, made (0700; its parent 01777 if new) before
# the task starts: SCRATCH-EXISTS and ERR if it exists already (it is never touched then).
# ISOLATE is "-", "tmp", "ipc" or "tmp,ipc": the wrapper runs the task under unshare(1) with
# empty tmpfs on /tmp, /var/tmp and /dev/shm (the scratch directory bound back into place) and
# an IPC namespace of its own; as root only, refused with ERR otherwise.
#
# The hang report (standby's "hang" request): HELLO, then the report of the task's cgroup
# (docs/cli.md, "hang"): HANG-WAIT per
# thread (state, wchan, kernel stack) read first, then the cgroup frozen (up to 0.5 s), then
# per process (at most 200) HANG-PROC, HANG-CWD, HANG-CMD and HANG-FILES (rest of the line),
# then thawed: HANG-END frozen=0|1 total=N (total=0: no such cgroup).
#
# scratch-rm: HELLO, then SCRATCH-REMOVED (verified gone), SCRATCH-GONE (not there), or
# SCRATCH-LEFT why=... (a mount inside it, never crossed; or what rm could not remove).
#
# probe: CGSPAWN-BACKENDS (JSON on one line) where cgspawn is installed, then PROBE host=...
# cgroup2=... writable=... systemd=... cgspawn=... tools=... uid=... controllers=...
# kernel=... boot_id=...
#
# run: the boundary is chosen by what the remote has.
#  - systemd as PID 1 with systemd-run, as root: a transient scope NAME.scope (systemd-run
#    --scope --collect, limits as unit properties). The wrapper, already in the scope, reports
#    its cgroup and waits at a gate (a FIFO) until the agent has read the limits back from
#    cgroupfs; a limit that did not take stops the scope before anything of the task ran.
#  - cgspawn installed there: `cgspawn run` makes the boundary (its own backend and limits,
#    its own ledger, task id NAME without "cgspawn-", shortened with a hash beyond 64
#    characters), the wrapper reports its cgroup and waits at the gate, as above. When the
#    main program ends, that cgspawn destroys what is left at once; its Result is kept in the
#    state dir for the `kill` that follows.
#  - otherwise: <cgroup2>/cgspawn-remote/NAME, made by the agent, limits written to it (the
#    controller enabled in cgspawn-remote, or refused naming it); the wrapper moves ITSELF
#    into it before anything of the task runs (every descendant is inside, with no race).
# Then STARTED, and supervision: EXITED rc=N when the main program ends (the in-band exit
# status: ssh's own 255 is ambiguous), and, with a lease, the agent kills the boundary by
# itself when stdin (the controlling connection) reaches EOF or stays silent LEASE_S seconds.
# It ends at stdin's EOF, when the boundary is gone, when the installed cgspawn's run has
# ended, or, for its own raw cgroup, when the cgroup is empty. Its last words (ENDED reason=...
# rc=...) are also kept in a state file, for the `kill` of a later `reap`, since stdout may be
# a dead channel.
#
# kill: HELLO first. It waits for a lease's teardown under way, then: SIGTERM to all, GRACE_MS
# to leave, cgroup.kill (or freeze + SIGKILL + thaw before 5.14), waits up to VERIFY_MS for
# "populated 0", then removes the cgroup, or for a unit stops and resets it and waits until
# systemd has unloaded it: KILLED, GONE, NOT-EMPTY (pids) or UNIT-LEFT. A task of an installed
# cgspawn is destroyed by `cgspawn destroy`; its reports come back as LEASE-REPORT,
# DESTROY-REPORT and RUN-RESULT (JSON on one line), then the agent's own check of the cgroup:
# KILLED via=cgspawn, GONE, NOT-EMPTY, or CGSPAWN-LEFT (the remote cgspawn kept its record).
#
# standby: a kill session opened beside the task's, ahead of its destroy. It says nothing and
# reads one line, "GRACE_MS VERIFY_MS [UNIT]", then is `kill NAME GRACE_MS VERIFY_MS [UNIT]`;
# at EOF first (no destroy came while it was held) it ends and does nothing. A first line
# "hang" asks for the hang report (above) before that line: a destroy of a running task takes
# both over one session.
set -u
M=$1 mode=$2; shift 2
if [ "$M" = - ]; then IFS= read -r M || exit 125; fi
say() { printf '%s %s\n' "$M" "$*" >&3; }
NL='
'
# Builtins (read) where a fork would do: every fork is paid on each spawn and destroy.
first() { v=unknown; read -r v 2>/dev/null < "$1"; echo "$v"; }
HOST_=unknown BOOT_=unknown UID_=
while read -r k v _; do [ "$k" = Uid: ] && { UID_=$v; break; }; done < /proc/self/status
[ -n "$UID_" ] || UID_=$(id -u)
read -r HOST_ 2>/dev/null < /proc/sys/kernel/hostname
read -r BOOT_ 2>/dev/null < /proc/sys/kernel/random/boot_id
# cg2: sets root to cgroup2's mount point (empty: none). Only cgroup2 has cgroup.controllers:
# the usual places first, as reading the mount table with the shell's read costs tens of
# milliseconds on a host with many mounts. (Functions set variables, where $(...) would fork.)
cg2() {
  root=
  for c in /sys/fs/cgroup /sys/fs/cgroup/unified; do [ -f "$c/cgroup.controllers" ] && { root=$c; return; }; done
  while read -r _ mp ty _; do [ "$ty" = cgroup2 ] && { root=$mp; return; }; done < /proc/self/mounts
}
# now: seconds since boot (monotonic, and a builtin: no date(1) on every turn of the loop).
tick() { read -r now _ < /proc/uptime; now=${now%%.*}; }
# running PID: not gone, nor a zombie (the shell reaps its background jobs only when it waits).
running() { s=; read -r s 2>/dev/null < "/proc/$1/stat" || return 1; s=${s##*) }; [ "${s%% *}" != Z ]; }
# started PID: sets ps to the process's start time (field 22 of its stat), empty when it is gone.
started() {
  ps='' s=''; read -r s 2>/dev/null < "/proc/$1/stat" || return 0
  set -f
  # shellcheck disable=SC2086  # the fields after the command name, split on purpose
  set -- ${s##*) }
  set +f
  ps=${20:-}
}
# wake: the task's own agent, if it is still the process that wrote $st/agent, stops waiting
# for its next turn (USR1).
wake() {
  [ -n "$ag" ] || return 0
  started "$ag"
  [ -n "$ps" ] && [ "$ps" = "$ags" ] && kill -USR1 "$ag" 2>/dev/null
  return 0
}
valid() { case $1 in ''|.*|*[!A-Za-z0-9._-]*) return 1;; esac; }
has_systemd() { [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 && command -v systemctl >/dev/null 2>&1; }
# The agent's state directories, one per task (AGENT_DIR/NAME).
# (TMPDIR only as an absolute path: a relative one is the session's, and one with a leading
# dash would be an option to mkdir and find.)
if [ "$UID_" = 0 ]; then AGENT_DIR=/run/cgspawn-agent
else case ${TMPDIR:-} in /*) AGENT_DIR=$TMPDIR/cgspawn-agent-$UID_;; *) AGENT_DIR=/tmp/cgspawn-agent-$UID_;; esac; fi
# Their files name what a kill ends (cg, unit, agent) and how a task ended (rc): a directory
# another user can write to, as one made in a shared /tmp before the agent's first run can be,
# would let that user choose both. agent_state NAME [make] sets st to the task's directory in
# it only where AGENT_DIR is a directory of this uid's own, not a link, written by it alone
# (trusted=1); else st goes under /dev/null, where no file can be, and a kill or a hang report
# goes by the task's name alone. "make" (run) makes AGENT_DIR 0700 first; missing, it is not
# trusted otherwise. Root's is in /run, where no other user makes names: the builtin tests
# suffice. Another user's is in a shared, sticky directory, where the owner of the name could
# swap what it is between two tests: one lstat (find -prune) gives type, owner and mode at once,
# and once that is this user's directory, the sticky bit keeps anyone else from renaming it.
trusted=0
agent_state() {
  if [ "${2:-}" = make ] && [ ! -e "$AGENT_DIR" ] && [ ! -L "$AGENT_DIR" ]; then
    # shellcheck disable=SC2174  # only AGENT_DIR itself holds state: its parents keep their modes
    mkdir -p -m 0700 "$AGENT_DIR" 2>/dev/null
  fi
  trusted=0
  if [ "$UID_" = 0 ]; then
    [ -d "$AGENT_DIR" ] && [ ! -L "$AGENT_DIR" ] && [ -O "$AGENT_DIR" ] && trusted=1
  elif [ -n "$(find "$AGENT_DIR" -prune -type d -user "$UID_" ! -perm -020 ! -perm -002 -print 2>/dev/null)" ]; then
    trusted=1
  fi
  if [ $trusted = 1 ]; then st=$AGENT_DIR/$1; else st=/dev/null/untrusted; fi
}
# The installed cgspawn's ledger L (its default one where there is a default) and task id: NAME
# without "cgspawn-" (its cgroup is then cgspawn-<id> = NAME), at most 64 characters.
cs_ledger() {
  if [ "$UID_" = 0 ]; then L=/run/cgspawn
  elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then L=$XDG_RUNTIME_DIR/cgspawn
  elif [ "$trusted" = 1 ]; then L=$AGENT_DIR/.ledger
  else L=/dev/null/untrusted; fi
}
cs_id() {
  rid=${1#cgspawn-}
  if [ ${#rid} -gt 64 ]; then h=$(printf %s "$rid" | cksum); rid=$(printf %.50s "$rid")-${h%% *}; fi
}
cs_destroy() { cgspawn --log-level error destroy "$rid" --state-dir "$L" --grace "$1ms" --json 2>/dev/null | tr -d '\n'; }
has_children() { for d in "$1"/*/; do [ -d "$d" ] && return 0; done; return 1; }
procs() {
  if has_children "$1"; then find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' '; else top_procs "$1"; echo "$l"; fi
}
named() { for p in $(procs "$1"); do c=; read -r c < "/proc/$p/comm" 2>/dev/null; printf '%s:%s ' "$p" "$c"; done; }
populated() {
  while read -r k v; do [ "$k" = populated ] && { [ "$v" = 1 ]; return; }; done 2>/dev/null < "$1/cgroup.events"
  return 1
}
# top_procs CGROUP: sets l to its pids (no subshell: it is on the spawn's path).
top_procs() { l=; while read -r p; do l="$l$p "; done 2>/dev/null < "$1/cgroup.procs"; }
wait_empty() {
  for t in 0.005 0.01 0.02; do populated "$1" || return 0; sleep $t; done
  n=$(( $2 / 50 )); while populated "$1" && [ "$n" -gt 0 ]; do n=$((n - 1)); sleep 0.05; done; ! populated "$1"
}
# kill_tree CGROUP GRACE_MS VERIFY_MS rm|keep [PARENT]: a unit's cgroup is systemd's to remove
# (keep); with rm, PARENT too if nothing else is in it (one rmdir(1) for both).
kill_tree() {
  killed=
  [ -d "$1" ] || return 0
  populated "$1" && killed=$(named "$1")
  if [ "$2" -gt 0 ] && populated "$1"; then
    for p in $(procs "$1"); do kill -TERM "$p" 2>/dev/null; kill -CONT "$p" 2>/dev/null; done
    wait_empty "$1" "$2"
  fi
  if populated "$1"; then
    if [ -e "$1/cgroup.kill" ]; then echo 1 > "$1/cgroup.kill"
    else echo 1 > "$1/cgroup.freeze"; for p in $(procs "$1"); do kill -KILL "$p" 2>/dev/null; done; echo 0 > "$1/cgroup.freeze"; fi
    wait_empty "$1" "$3"
  fi
  if [ "$4" = rm ] && ! populated "$1"; then
    if has_children "$1"; then find "$1" -depth -type d -exec rmdir {} + 2>/dev/null; [ -z "${5:-}" ] || rmdir "$5" 2>/dev/null
    elif [ -n "${5:-}" ]; then rmdir "$1" "$5" 2>/dev/null
    else rmdir "$1" 2>/dev/null; fi
  fi
  return 0
}
# unit_state UNIT: sets ls (LoadState) and ucg (ControlGroup) with one systemctl call.
unit_state() {
  ls='' ucg=''
  out=$(systemctl show -p LoadState -p ControlGroup "$1" 2>/dev/null)
  o=$IFS; IFS='
'
  for kv in $out; do case $kv in LoadState=*) ls=${kv#LoadState=};; ControlGroup=*) ucg=${kv#ControlGroup=};; esac; done
  IFS=$o
}
# stop_unit UNIT VERIFY_MS: stop and reset it, then wait until systemd has unloaded it.
stop_unit() {
  systemctl stop "$1" >/dev/null 2>&1; systemctl reset-failed "$1" >/dev/null 2>&1
  n=$(( $2 / 100 ))
  while :; do
    unit_state "$1"
    [ "$ls" = not-found ] && return 0
    [ "$n" -le 0 ] && return 1
    n=$((n - 1)); sleep 0.1
  done
}
probe() {
  exec 3>&1
  cg2; w=no sd=no cs=none t=no ctl=
  if [ -n "$root" ]; then
    { [ -w "$root" ] || [ -w "$root/cgspawn-remote" ]; } && w=yes
    ctl=$(first "$root/cgroup.subtree_control"); [ "$ctl" = unknown ] && ctl=
  fi
  has_systemd && sd=yes
  if command -v cgspawn >/dev/null 2>&1; then
    cs=$(cgspawn --version 2>/dev/null) || cs=broken
    cs=${cs#cgspawn }; cs=${cs%% *}
    say "CGSPAWN-BACKENDS $(cgspawn --log-level error backends --json 2>/dev/null | tr -d '\n')"
  fi
  command -v dd >/dev/null 2>&1 && command -v sleep >/dev/null 2>&1 && t=yes
  l=; for c in $ctl; do l="$l${l:+,}$c"; done
  say "PROBE host=$HOST_ cgroup2=${root:-none} writable=$w systemd=$sd cgspawn=$cs tools=$t uid=$UID_ controllers=${l:--} kernel=$(uname -r) boot_id=$BOOT_"
}
# Another task's end may remove the parent (cgspawn-remote) between our two mkdirs, and a
# third task make it again: only the task's own cgroup existing is a reason to give up at once.
make_cgroup() {
  for i in 1 2 3 4 5; do
    [ -d "$1" ] || mkdir -p "$1" 2>/dev/null
    mkdir "$2" 2>/dev/null && return 0
    [ -d "$2" ] && return 1
  done
  return 1
}
parse_limits() {
  mem='' pids='' cpu=''
  [ "$1" = - ] && return 0
  o=$IFS; IFS=,
  for kv in $1; do case $kv in mem=*) mem=${kv#mem=};; pids=*) pids=${kv#pids=};; cpu=*) cpu=${kv#cpu=};; esac; done
  IFS=$o
}
# The raw path's limits: the controller enabled in cgspawn-remote, then the limit written.
need() {
  case " $(first "$base/cgroup.controllers") " in
    *" $1 "*) ;;
    *) why="the $1 controller is not available on $HOST_: $base/cgroup.controllers is '$(first "$base/cgroup.controllers")'"; return 1;;
  esac
  echo "+$1" > "$base/cgroup.subtree_control" 2>/dev/null || { why="cannot enable the $1 controller in $base on $HOST_"; return 1; }
}
put() { echo "$2" > "$cg/$1" 2>/dev/null || { why="cannot write '$2' to $cg/$1 on $HOST_"; return 1; }; }
write_limits() {
  if [ -n "$mem" ]; then need memory && put memory.max "$mem" || return 1; { echo 0 > "$cg/memory.swap.max"; } 2>/dev/null; fi
  if [ -n "$pids" ]; then need pids && put pids.max "$pids" || return 1; fi
  if [ -n "$cpu" ]; then need cpu && put cpu.max "$((cpu * 1000)) 100000" || return 1; fi
  return 0
}
# The unit path's limits, read back from cgroupfs: a manager may drop what it cannot enforce.
differs() { [ -n "$2" ] && [ "$(first "$cg/$1")" != "$2" ]; }
check_limits() {
  for f in "memory.max:$mem:MemoryMax" "pids.max:$pids:TasksMax" "cpu.max:${cpu:+$((cpu * 1000)) 100000}:CPUQuota"; do
    file=${f%%:*} rest=${f#*:}; want=${rest%:*} prop=${rest##*:}
    if differs "$file" "$want"; then why="$prop did not take on $HOST_: $cg/$file is '$(first "$cg/$file")', not '$want'"; return 1; fi
  done
  return 0
}
fail_start() {
  if [ -n "$unit" ]; then stop_unit "$unit" 5000; elif [ -n "$rid" ]; then cs_destroy 0 >/dev/null; fi
  rm -rf "$st"; say "ERR $*"; exit 125
}
# The wrapper: $1 is the cgroup to move into (raw path), or "gate" (already in its boundary:
# it reports its cgroup and waits at the gate; "gate4": also takes its stderr back from fd 4).
# Then the task, its status in-band. The mark comes through the gate (a FIFO) on the gate paths,
# else as its stdin (a here-document: a file, not a pipe, in bash before 5.1), which it then
# gives up; the task's stdin is /dev/null.
# shellcheck disable=SC2016  # the wrapper's own $1, $$ and $@: expanded by its sh, not here
WRAPPER='
  exec 3>&-
  case $1 in
    gate*)
      [ "$1" = gate4 ] && exec 2>&4 4>&-
      while IFS= read -r l; do case $l in 0::*) echo "${l#0::}" > "$2/cg";; esac; done < /proc/self/cgroup
      IFS= read -r M < "$2/go" || exit 125;;
    *) IFS= read -r M && exec </dev/null || { echo 125 > "$2/rc"; exit 125; }
       echo $$ > "$1/cgroup.procs" || { echo 125 > "$2/rc"; exit 125; };;
  esac
  st=$2 cwd=$3 n=$4 iso=$6 scr=$7 isc=$8; shift 8
  while [ "$n" -gt 0 ]; do export "$1"; shift; n=$((n - 1)); done
  shift
  if [ "$iso" != - ]; then
    u="--mount --propagation slave"; case $iso in *ipc*) u="$u --ipc";; esac
    set -- unshare $u -- sh -c "$isc" cgspawn-isolate "$iso" "$scr" "$@"
  fi
  if [ -n "$cwd" ]; then cd "$cwd" || { echo 125 > "$st/rc"; printf "%s EXITED rc=125\n" "$M" >&2; exit 125; }; fi
  "$@" </dev/null
  rc=$?
  printf "%s EXITED rc=%s\n" "$M" "$rc" >&2
  echo $rc > "$st/rc"   # one write(2); a reader that finds it empty takes it as not yet written
'
# In the task's new namespaces: empty tmpfs, the scratch directory (held open as fd 7 across
# the tmpfs that hides its path) bound back into place, the IPC namespace's own /dev/mqueue.
# shellcheck disable=SC2016  # expanded by the isolating sh, not here
ISOLATE='
  iso=$1 scr=$2; shift 2
  case $iso in *tmp*)
    if [ "$scr" != - ]; then exec 7< "$scr" || exit 125; fi
    for d in /tmp /var/tmp /dev/shm; do mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$d" || exit 125; done
    if [ "$scr" != - ]; then mkdir -p "$scr" && mount --no-canonicalize --bind /proc/self/fd/7 "$scr" || exit 125; exec 7<&-; fi;;
  esac
  case $iso in *ipc*) [ -d /dev/mqueue ] && { mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue || exit 125; };; esac
  exec "$@"
'
# The task's scratch directory, before anything of the task runs; one that exists is not ours.
make_scratch() {
  [ "$scratch" = - ] && return 0
  sroot=${scratch%/*}
  [ -d "$sroot" ] || { mkdir "$sroot" 2>/dev/null && chmod 1777 "$sroot"; }
  { [ -d "$sroot" ] && [ ! -L "$sroot" ]; } || fail_start "scratch root $sroot on $HOST_ is not a directory"
  # Of root or this user, sticky if others may write: nobody else can swap the task's directory.
  own=$(stat -c %u "$sroot") mode=$(stat -c %a "$sroot")
  { [ "$own" = 0 ] || [ "$own" = "$UID_" ]; } || fail_start "scratch root $sroot on $HOST_ is owned by uid $own"
  case $mode in 1???) ;; *[2367]) fail_start "scratch root $sroot on $HOST_ is writable by others without the sticky bit";; esac
  mkdir -m 700 "$scratch" 2>/dev/null && return 0
  [ -e "$scratch" ] && { say "SCRATCH-EXISTS path=$scratch"; fail_start "scratch directory $scratch exists already on $HOST_"; }
  fail_start "cannot create scratch directory $scratch on $HOST_"
}
check_isolate() {
  [ "$iso" = - ] && return 0
  [ "$UID_" = 0 ] || fail_start "--private-tmp/--private-ipc on $HOST_: needs root there (uid $UID_)"
  command -v unshare >/dev/null 2>&1 || fail_start "--private-tmp/--private-ipc on $HOST_: it has no unshare(1)"
}
# Removes a scratch directory: never across a mount (mountinfo names every mount point), rm's
# own -r never follows a symlink, chmod -R first so a read-only subdirectory goes too.
scratch_rm() {
  exec 3>&1
  p=$1
  case $p in /?*/?*) ;; *) say "ERR bad scratch path"; exit 125;; esac
  say "HELLO host=$HOST_ boot_id=$BOOT_"
  if [ ! -e "$p" ] && [ ! -L "$p" ]; then say "SCRATCH-GONE path=$p"; exit 0; fi
  while read -r _ _ _ _ mp _; do
    case $mp in "$p"|"$p"/*) say "SCRATCH-LEFT path=$p why=a-mount-is-inside-it-at-$mp"; exit 1;; esac
  done < /proc/self/mountinfo
  chmod -R u+rwx "$p" 2>/dev/null
  rm -rf "$p" 2>/dev/null
  if [ -e "$p" ] || [ -L "$p" ]; then say "SCRATCH-LEFT path=$p why=rm-could-not-remove-it"; exit 1; fi
  say "SCRATCH-REMOVED path=$p"; exit 0
}
# One dd copies stdin (the heartbeats, an "h" each) into a file for the session's life: a beat
# is a longer line there, EOF is dd gone, both read with builtins. (A `timeout dd` per turn
# cost three forks every half second per task, and on a saturated host a dd that could not
# start within its timeout never read the beats waiting for it: the lease expired.) And the
# agent's pid and start time, for a kill session's wake: it then ends this agent's wait for its
# next turn (USR1), so that the task's session ends at once, not half a second later.
start_reader() {
  : > "$st/beats"
  # fd 6: a background job's stdin is /dev/null unless it is given one from another fd.
  exec 6<&0
  dd bs=1 of="$st/beats" <&6 >/dev/null 2>&1 3>&- 5>&- 6<&- &
  reader=$!
  exec 6<&-
  trap 'woken=1' USR1  # before its pid is told: the default action would end the agent
  started $$; echo "$$ $ps" > "$st/agent"
}
start_cgroup() {
  base=$root/cgspawn-remote cg=$root/cgspawn-remote/$name
  if ! make_cgroup "$base" "$cg"; then
    [ -d "$cg" ] && fail_start "cannot create cgroup $cg on $HOST_: it exists"
    p=$root; [ -d "$base" ] && p=$base
    [ -w "$p" ] || [ "$UID_" = 0 ] || fail_start "cannot create cgroup $cg on $HOST_: uid $UID_ may not write $p, and there is neither systemd-run for root nor an installed cgspawn (a cgroup2 subtree delegated to uid $UID_ would do)"
    [ -w "$p" ] || fail_start "cannot create cgroup $cg on $HOST_: $p is not writable (a read-only cgroup2 mount?)"
    fail_start "cannot create cgroup $cg on $HOST_"
  fi
  write_limits || { rmdir "$cg" 2>/dev/null; fail_start "$why"; }
  # The wrapper reports the exit itself, at once (the agent's loop would add up to its poll).
  setsid sh -c "$WRAPPER" cgspawn-task "$cg" "$st" "$cwd" "$nenv" - "$iso" "$scratch" "$ISOLATE" "$@" <<EOF &
$M
EOF
  # The wrapper's move into the cgroup waits for an RCU grace period in the kernel (10-30 ms):
  # the agent's own set-up is done meanwhile.
  trap '' PIPE HUP
  start_reader
  # The wrapper needs a few milliseconds (setsid, sh): spin on the builtin checks (about 25 us
  # a turn) for up to about 50 ms before sleeping, as each sleep(1) costs a fork and 10 ms.
  i=0
  until populated "$cg" || [ -s "$st/rc" ] || [ $i -ge 2500 ]; do i=$((i + 1)); [ $i -gt 2000 ] && sleep 0.01; done
}
start_unit() {
  unit=$name.scope
  props="-p SendSIGKILL=yes"
  [ -n "$mem" ] && props="$props -p MemoryMax=$mem -p MemorySwapMax=0"
  [ -n "$pids" ] && props="$props -p TasksMax=$pids"
  [ -n "$cpu" ] && props="$props -p CPUQuota=$cpu%"
  [ "$rtmax" -gt 0 ] && props="$props -p RuntimeMaxSec=$rtmax"
  mkfifo -m 0600 "$st/go" || fail_start "cannot create $st/go on $HOST_"
  exec 5<>"$st/go"   # held open: the wrapper's open never blocks, and its read waits for "go"
  echo "$unit" > "$st/unit"
  # systemd-run's own errors go to a file; the task's stderr is fd 4, restored by the wrapper.
  # shellcheck disable=SC2086  # $props is a list of words (-p NAME=VALUE), split on purpose
  setsid systemd-run --quiet --scope --collect --unit="$unit" --description="cgspawn task $name" $props -- \
    sh -c "$WRAPPER" cgspawn-task gate4 "$st" "$cwd" "$nenv" - "$iso" "$scratch" "$ISOLATE" "$@" </dev/null 4>&2 2>"$st/systemd-run.err" 5>&- &
  i=0 ucg=
  until [ -n "$ucg" ] || [ -s "$st/systemd-run.err" ] || [ $i -ge 1000 ]; do
    read -r ucg 2>/dev/null < "$st/cg" || { i=$((i + 1)); sleep 0.01; }
  done
  if [ -z "$ucg" ]; then
    e=$(tr '\n' ' ' 2>/dev/null < "$st/systemd-run.err")
    fail_start "systemd-run could not start $unit on $HOST_: ${e:-no answer within 10s}"
  fi
  cg=$root$ucg
  check_limits || { kill_tree "$cg" 0 5000 keep; fail_start "$why"; }
  printf '%s\n' "$M" >&5  # the gate opens with the mark
}
# The installed cgspawn's path. Its own errors are one line on stderr ("cgspawn: ..."), which
# is also the task's: before the gate nothing of the task has run, so a line there is its.
start_cgspawn() {
  cs_id "$name"; cs_ledger
  a=
  [ -n "$mem" ] && a="$a --memory-max $mem"
  [ -n "$pids" ] && a="$a --pids-max $pids"
  [ -n "$cpu" ] && a="$a --cpu-max $cpu"
  [ "$rtmax" -gt 0 ] && a="$a --timeout $rtmax"
  mkfifo -m 0600 "$st/go" || fail_start "cannot create $st/go on $HOST_"
  exec 5<>"$st/go"
  echo "$rid $L" > "$st/cgspawn"
  # shellcheck disable=SC2086  # $a is a list of words (--memory-max N ...), split on purpose
  { setsid cgspawn --log-level error run -q --id "$rid" --state-dir "$L" --result "$st/result.json" $a -- \
      sh -c "$WRAPPER" cgspawn-task gate "$st" "$cwd" "$nenv" - "$iso" "$scratch" "$ISOLATE" "$@" </dev/null 5>&-
    echo $? > "$st/run.rc"; } &
  i=0 ucg=
  until [ -n "$ucg" ] || [ -e "$st/run.rc" ] || [ $i -ge 1000 ]; do
    read -r ucg 2>/dev/null < "$st/cg" || { i=$((i + 1)); sleep 0.01; }
  done
  [ -n "$ucg" ] || fail_start "cgspawn on $HOST_ did not start the task (exit $(first "$st/run.rc"))"
  cg=$root$ucg
  printf '%s\n' "$M" >&5  # the gate opens with the mark
}
run() {
  exec 3>&2
  name=$1 lease=$2 cwd=$3 limits=$4 rtmax=$5 scratch=$6 iso=$7 nenv=$8; shift 8
  unit='' rid='' reader=''
  valid "$name" || { say "ERR bad task name"; exit 125; }
  cg2
  [ -n "$root" ] || { say "ERR no cgroup2 is mounted on $HOST_"; exit 125; }
  { command -v dd && command -v sleep; } >/dev/null 2>&1 || { say "ERR $HOST_ has no dd(1) or sleep(1): the agent cannot keep a lease"; exit 125; }
  agent_state "$name" make
  [ $trusted = 1 ] || { say "ERR $AGENT_DIR on $HOST_ is not a directory of uid $UID_'s own that only it may write: cgspawn keeps no task's state there"; exit 125; }
  if [ -d "$st" ]; then rm -f "$st/rc" "$st/ended" "$st/cg" "$st/go" "$st/unit" "$st/systemd-run.err" "$st/cgspawn" "$st/run.rc" "$st/result.json" "$st/lease-destroy.json" "$st/ending" "$st/beats" "$st/agent"
  else mkdir -p "$st" 2>/dev/null || { say "ERR cannot create $st on $HOST_"; exit 125; }; fi
  parse_limits "$limits"
  check_isolate
  make_scratch
  if has_systemd && [ "$UID_" = 0 ]; then start_unit "$@"
  elif command -v cgspawn >/dev/null 2>&1; then start_cgspawn "$@"
  else start_cgroup "$@"; fi
  trap '' PIPE HUP
  [ -n "$reader" ] || start_reader
  top_procs "$cg"
  say "STARTED cgroup=$cg unit=${unit:--} via=${rid:+cgspawn}${rid:-agent} pids=[$l] host=$HOST_ boot_id=$BOOT_"
  tick; last=$now reason='' tmo=0.05 seen=0
  while :; do
    woken=  # a wake from here on finds the checks below already done: the wait is skipped
    if [ -n "$rid" ] && [ -e "$st/run.rc" ]; then reason=cgspawn-ended; break; fi
    if [ ! -d "$cg" ]; then reason=destroyed; [ -n "$unit" ] && reason='unit-ended'; break; fi
    # Everything in the raw cgroup is gone (its task ended, or was killed there): the session
    # ends, so this side learns it even when nobody was left to say EXITED.
    if [ -z "$unit$rid" ] && ! populated "$cg"; then reason=emptied; break; fi
    # A trapped signal ends `wait` at once (POSIX), where it would not end a foreground sleep.
    sleep $tmo & sp=$!
    [ -n "$woken" ] || wait "$sp"
    # Only a sleep cut short is killed: one that ended was reaped, and its pid may be another's.
    [ -z "$woken" ] || { kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null; }
    case $tmo in 0.05) tmo=0.1;; 0.1) tmo=0.2;; *) tmo=0.5;; esac
    tick
    beats=; read -r beats 2>/dev/null < "$st/beats"
    [ ${#beats} -gt "$seen" ] && { seen=${#beats}; last=$now; }
    running "$reader" || { reason=stdin-eof; break; }
    if [ "$lease" -gt 0 ] && [ $((now - last)) -ge "$lease" ]; then reason='lease-expired'; break; fi
  done
  trap '' USR1  # a late wake must not cut a teardown's wait short
  kill "$reader" 2>/dev/null
  if [ "$lease" -gt 0 ] && { [ "$reason" = stdin-eof ] || [ "$reason" = lease-expired ]; }; then
    : > "$st/ending"   # a destroy that comes now waits for this teardown and its report
    if [ -n "$unit" ]; then kill_tree "$cg" 0 10000 keep; stop_unit "$unit" 10000
    elif [ -n "$rid" ]; then cs_destroy 0 > "$st/lease-destroy.json"; wait
    else kill_tree "$cg" 0 10000 rm; fi
  fi
  rc=; read -r rc 2>/dev/null < "$st/rc"
  cr=yes; [ -d "$cg" ] && cr=no
  msg="ENDED reason=$reason rc=${rc:-none}"
  # The time only where the words are kept (a kill session took the state away otherwise): a
  # date(1) is a fork, and a destroy waits for this session's end.
  if [ -d "$st" ]; then
    msg="$msg at=$(date -u +%Y-%m-%dT%H:%M:%SZ) cgroup_removed=$cr"
    # A kill session may take the directory away meanwhile: no word of that on the task's stderr.
    { echo "$msg" > "$st/ended"; } 2>/dev/null
    [ ! -e "$st/ending" ] || rm -f "$st/ending"
  else msg="$msg cgroup_removed=$cr"; fi
  say "$msg"
}
kill_unit() {
  unit_state "$unit"
  if [ "$ls" = not-found ]; then
    rm -rf "$st"; say "GONE unit=$unit boot_id=$BOOT_ agent=${ended:-none}"; exit 0
  fi
  cg=$root$ucg
  if [ -n "$ucg" ] && [ -d "$cg" ]; then kill_tree "$cg" "$grace" "$verify" keep; fi
  if [ -n "$ucg" ] && populated "$cg"; then say "NOT-EMPTY cgroup=$cg unit=$unit boot_id=$BOOT_ left=[$(named "$cg")]"; exit 1; fi
  if stop_unit "$unit" "$verify" && { [ -z "$ucg" ] || [ ! -d "$cg" ]; }; then
    rm -rf "$st"; say "KILLED cgroup=$cg unit=$unit boot_id=$BOOT_ killed=[${killed:-}]"; exit 0
  fi
  say "UNIT-LEFT unit=$unit cgroup=$cg boot_id=$BOOT_ load_state=$ls"; exit 1
}
# The remote cgspawn destroys and reports; the agent checks the cgroup itself all the same.
kill_cgspawn() {
  ucg=; read -r ucg 2>/dev/null < "$st/cg"; cg=${ucg:+$root$ucg}
  dj=
  if [ -d "$L/$rid" ]; then dj=$(cs_destroy "$grace"); fi
  # A `cgspawn run` still cleaning up writes its Result when done.
  n=$(( verify / 50 ))
  while [ -e "$st/cgspawn" ] && [ ! -e "$st/run.rc" ] && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done
  [ -s "$st/lease-destroy.json" ] && say "LEASE-REPORT $(cat "$st/lease-destroy.json")"
  [ -n "$dj" ] && say "DESTROY-REPORT $dj"
  [ -s "$st/result.json" ] && say "RUN-RESULT $(tr -d '\n' < "$st/result.json")"
  if [ -n "$cg" ] && [ -d "$cg" ]; then
    if populated "$cg"; then say "NOT-EMPTY cgroup=$cg boot_id=$BOOT_ left=[$(named "$cg")]"; exit 1; fi
    say "CGSPAWN-LEFT cgroup=$cg id=$rid ledger=$L why=cgroup-not-removed"; exit 1
  fi
  if [ -d "$L/$rid" ]; then say "CGSPAWN-LEFT cgroup=${cg:--} id=$rid ledger=$L why=record-kept"; exit 1; fi
  if [ -z "$dj" ] && [ ! -s "$st/result.json" ]; then rm -rf "$st"; say "GONE cgroup=${cg:--} boot_id=$BOOT_ agent=${ended:-none}"; exit 0; fi
  rm -rf "$st"; say "KILLED cgroup=${cg:--} boot_id=$BOOT_ via=cgspawn killed=[] agent=${ended:-none}"; exit 0
}
# hang_task_cgroup NAME: sets h to the task's cgroup (a unit's, an installed cgspawn's, or ours).
hang_task_cgroup() {
  agent_state "$1"; u='' ucg=
  [ -r "$st/unit" ] && read -r u < "$st/unit"
  if [ -n "$u" ]; then unit_state "$u"; h=${ucg:+$root$ucg}; return; fi
  if [ -r "$st/cg" ]; then read -r ucg < "$st/cg"; h=${ucg:+$root$ucg}; return; fi
  h=$root/cgspawn-remote/$1
}
# Before freezing: where each thread waits (a frozen thread waits in the freezer).
hang_waits() {
  for t in /proc/"$1"/task/*; do
    s=; read -r s 2>/dev/null < "$t/stat" || continue
    s=${s##*) } w=; read -r w 2>/dev/null < "$t/wchan"; [ "$w" = 0 ] && w=
    k=; while read -r _ f; do k="$k${f%%+*},"; done 2>/dev/null < "$t/stack"
    say "HANG-WAIT pid=$1 tid=${t##*/} state=${s%% *} wchan=$w stack=[${k%,}]"
  done
}
hang_proc() {
  s=; read -r s 2>/dev/null < "/proc/$1/stat" || return 0
  c=${s#*(} c=${c%)*} s=${s##*) }
  set -f
  # shellcheck disable=SC2086  # the fields of /proc/PID/stat, split on purpose
  set -- "$1" $s
  set +f
  up=; read -r up _ < /proc/uptime; up=${up%.*}${up#*.}
  r=0; read -r _ r _ 2>/dev/null < "/proc/$1/statm"
  n=0; for f in /proc/"$1"/fd/*; do [ -e "$f" ] || [ -L "$f" ] && n=$((n + 1)); done
  case " $seen " in *" $1 "*) a=0;; *) a=1;; esac
  say "HANG-PROC pid=$1 ppid=$3 state=$2 age_cs=$((up - ${21:-0} * 100 / tck)) rss=$((r * page)) fds=$n after=$a comm=[$c]"
  # A directory's name may hold a newline, and the task chose it: a line of its own after it
  # would pass for the agent's. tr (a fork) only where there is one.
  w=$(readlink "/proc/$1/cwd" 2>/dev/null)
  case $w in *"$NL"*) w=$(printf '%s' "$w" | tr '\n' ' ');; esac
  say "HANG-CWD pid=$1 $w"
  say "HANG-CMD pid=$1 $(tr '\0\n' '  ' < "/proc/$1/cmdline" 2>/dev/null | cut -c1-1024)"
  say "HANG-FILES pid=$1 $(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%f=%l\n' 2>/dev/null | sort -n | head -n 16 | tr '\n' ' ')"
}
hang_report() {
  say "HELLO host=$HOST_ boot_id=$BOOT_"
  cg2; hang_task_cgroup "$1"
  if [ -z "$root" ] || [ -z "$h" ] || [ ! -d "$h" ]; then say "HANG-END frozen=0 total=0"; return 0; fi
  tck=$(getconf CLK_TCK) page=$(getconf PAGESIZE)
  seen=$(procs "$h" | tr ' ' '\n' | sort -n | head -n 200 | tr '\n' ' ')
  for p in $seen; do hang_waits "$p"; done
  fz=0 thaw=0 v=0; read -r v 2>/dev/null < "$h/cgroup.freeze"
  if [ "$v" = 1 ]; then fz=1
  elif echo 1 2>/dev/null > "$h/cgroup.freeze"; then
    thaw=1 i=10
    while [ $i -gt 0 ]; do
      while read -r k v; do [ "$k" = frozen ] && [ "$v" = 1 ] && fz=1; done 2>/dev/null < "$h/cgroup.events"
      [ $fz = 1 ] && break; i=$((i - 1)); sleep 0.05
    done
  fi
  all=$(procs "$h" | tr ' ' '\n' | sort -n) total=0
  for p in $all; do total=$((total + 1)); [ $total -le 200 ] && hang_proc "$p"; done
  [ $thaw = 1 ] && echo 0 > "$h/cgroup.freeze"
  say "HANG-END frozen=$fz total=$total"
}
killmode() {
  exec 3>&1
  name=$1 grace=$2 verify=$3 unit=${4:-}
  valid "$name" || { say "ERR bad task name"; exit 125; }
  say "HELLO host=$HOST_ boot_id=$BOOT_"
  cg2; agent_state "$1"
  base=$root/cgspawn-remote cg=$root/cgspawn-remote/$name
  ag='' ags=''; read -r ag ags 2>/dev/null < "$st/agent"
  trap wake EXIT  # whatever this session found, the task's agent looks again now
  # The lease's own teardown is under way: racing it would report half of it, so wait for it.
  n=$(( verify / 50 ))
  while [ -e "$st/ending" ] && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done
  ended=; read -r ended 2>/dev/null < "$st/ended"
  [ -z "$unit" ] && [ -r "$st/unit" ] && read -r unit < "$st/unit"
  # A start cut off before its record named the unit: a systemd remote may still have it.
  if [ -z "$unit" ] && [ ! -d "$cg" ] && [ "$UID_" = 0 ] && has_systemd; then
    unit_state "$name.scope"; [ "$ls" = loaded ] && unit=$name.scope
  fi
  [ -n "$unit" ] && kill_unit
  cs_id "$name"; cs_ledger
  if [ -e "$st/cgspawn" ] || { [ ! -d "$cg" ] && [ -d "$L/$rid" ] && command -v cgspawn >/dev/null 2>&1; }; then kill_cgspawn; fi
  if [ -z "$root" ] || [ ! -d "$cg" ]; then
    rm -rf "$st"; rmdir "$base" 2>/dev/null
    say "GONE cgroup=$cg boot_id=$BOOT_ agent=${ended:-none}"; exit 0
  fi
  kill_tree "$cg" "$grace" "$verify" rm "$base"
  if [ ! -d "$cg" ]; then
    rm -rf "$st"
    say "KILLED cgroup=$cg boot_id=$BOOT_ killed=[$killed]"; exit 0
  fi
  say "NOT-EMPTY cgroup=$cg boot_id=$BOOT_ left=[$(named "$cg")]"; exit 1
}
# Nothing is said before a request: the destroy's bound then starts at the HELLO of its answer.
# A destroy of a running task asks for the hang report here first ("hang"), then the kill.
standby() {
  exec 3>&1
  valid "$1" || { say "ERR bad task name"; exit 125; }
  read -r g v u || exit 0
  if [ "$g" = hang ]; then hang_report "$1"; read -r g v u || exit 0; fi
  case $g$v in ''|*[!0-9]*) echo "$M ERR bad kill request"; exit 125;; esac
  [ -z "$u" ] || valid "$u" || { echo "$M ERR bad unit name"; exit 125; }
  killmode "$1" "$g" "$v" ${u:+"$u"}
}
case $mode in
  probe) probe;;
  run) run "$@";;
  kill) killmode "$@";;
  standby) standby "$@";;
  scratch-rm) scratch_rm "$@";;
  *) echo "$M ERR unknown agent mode $mode"; exit 125;;
esac
