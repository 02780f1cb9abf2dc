// The remote agent, sent over ssh on every call (nothing is installed on the remote).
//
//   sh -c SCRIPT cgspawn-agent MARK probe
//   sh -c SCRIPT cgspawn-agent MARK run NAME LEASE_S CWD NENV [NAME=VALUE...] -- ARGV...
//   sh -c SCRIPT cgspawn-agent MARK kill NAME GRACE_MS VERIFY_MS
//
// Every line meant for cgspawn starts with MARK (a nonce per call): login-shell noise and the
// task's own output are never taken for a reply. `run` writes its lines on stderr (stdout is
// the task's), `probe` and `kill` on stdout.
//
// run: makes <cgroup2>/cgspawn-remote/NAME, starts a wrapper that moves ITSELF into it before
// anything of the task runs (so every descendant is inside, with no race), prints STARTED,
// then supervises: EXITED rc=N when the main program ends (the in-band exit status: ssh's own
// 255 is ambiguous), and, with a lease, kills the cgroup by itself when stdin (the controlling
// connection) reaches EOF or stays silent LEASE_S seconds. Its last words (ENDED ...) are also
// kept in a state file, for the `kill` of a later `reap`, since stdout may be a dead channel.
// kill: SIGTERM to all, GRACE_MS to leave, cgroup.kill (or freeze + SIGKILL + thaw before
// 5.14), waits for "populated 0", removes the cgroup: KILLED, GONE, or NOT-EMPTY with the pids.
#include "backends/remote/agent_script.hpp"

#include "backends/remote/ssh_command.hpp"

namespace cgspawn::remote {

const std::string& agent_script() {
  static const std::string script = R"AGENT(set -u
M=$1 mode=$2; shift 2
say() { printf '%s %s\n' "$M" "$*" >&3; }
# Builtins (read) where a fork would do: every fork is paid on each spawn and destroy.
first() { v=unknown; read -r v < "$1" 2>/dev/null; echo "$v"; }
host() { first /proc/sys/kernel/hostname; }
boot() { first /proc/sys/kernel/random/boot_id; }
cg2() { while read -r _ mp ty _; do [ "$ty" = cgroup2 ] && { echo "$mp"; return; }; done < /proc/self/mounts; }
valid() { case $1 in ''|.*|*[!A-Za-z0-9._-]*) return 1;; esac; }
state_dir() {
  if [ "$(id -u)" = 0 ]; then echo "/run/cgspawn-agent/$1"; else echo "${TMPDIR:-/tmp}/cgspawn-agent-$(id -u)/$1"; fi
}
procs() { find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' '; }
named() { for p in $(procs "$1"); do c=; read -r c < "/proc/$p/comm" 2>/dev/null; printf '%s:%s ' "$p" "$c"; done; }
populated() {
  while read -r k v; do [ "$k" = populated ] && { [ "$v" = 1 ]; return; }; done < "$1/cgroup.events" 2>/dev/null
  return 1
}
top_procs() { l=; while read -r p; do l="$l$p "; done < "$1/cgroup.procs" 2>/dev/null; echo "$l"; }
wait_empty() {
  for t in 0.005 0.01 0.02; do populated "$1" || return 0; sleep $t; done
  n=$(( $2 / 50 )); while populated "$1" && [ "$n" -gt 0 ]; do n=$((n - 1)); sleep 0.05; done; ! populated "$1"
}
kill_tree() {
  killed=$(named "$1")
  if [ "$2" -gt 0 ] && populated "$1"; then
    for p in $(procs "$1"); do kill -TERM "$p" 2>/dev/null; kill -CONT "$p" 2>/dev/null; done
    wait_empty "$1" "$2"
  fi
  if populated "$1"; then
    if [ -e "$1/cgroup.kill" ]; then echo 1 > "$1/cgroup.kill"
    else echo 1 > "$1/cgroup.freeze"; for p in $(procs "$1"); do kill -KILL "$p" 2>/dev/null; done; echo 0 > "$1/cgroup.freeze"; fi
    wait_empty "$1" "$3"
  fi
  populated "$1" || find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
  return 0
}
probe() {
  exec 3>&1
  root=$(cg2) w=no sd=no cs=no t=no
  if [ -n "$root" ]; then { [ -w "$root" ] || [ -w "$root/cgspawn-remote" ]; } && w=yes; fi
  [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 && sd=yes
  command -v cgspawn >/dev/null 2>&1 && cs=yes
  command -v timeout >/dev/null 2>&1 && command -v dd >/dev/null 2>&1 && t=yes
  say "PROBE host=$(host) cgroup2=${root:-none} writable=$w systemd=$sd cgspawn=$cs timeout=$t uid=$(id -u) kernel=$(uname -r) boot_id=$(boot)"
}
make_cgroup() {
  for i in 1 2 3; do
    mkdir -p "$1" 2>/dev/null
    mkdir "$2" 2>/dev/null && return 0
    [ -d "$1" ] && return 1
  done
  return 1
}
run() {
  exec 3>&2
  name=$1 lease=$2 cwd=$3 nenv=$4; shift 4
  valid "$name" || { say "ERR bad task name"; exit 125; }
  root=$(cg2)
  [ -n "$root" ] || { say "ERR no cgroup2 is mounted on $(host)"; exit 125; }
  command -v timeout >/dev/null 2>&1 || { say "ERR $(host) has no timeout(1): the agent cannot keep a lease"; exit 125; }
  base=$root/cgspawn-remote cg=$root/cgspawn-remote/$name st=$(state_dir "$name")
  mkdir -p "$st" 2>/dev/null || { say "ERR cannot create $st on $(host)"; exit 125; }
  rm -f "$st/rc" "$st/ended"
  make_cgroup "$base" "$cg" || { rmdir "$st" 2>/dev/null; say "ERR cannot create cgroup $cg on $(host) (it exists, or cgroup2 is not writable)"; exit 125; }
  # The wrapper reports the exit itself, at once (the agent's loop would add up to its poll).
  setsid sh -c '
    exec 3>&-
    echo $$ > "$1/cgroup.procs" || { echo 125 > "$2/rc"; exit 125; }
    st=$2 cwd=$3 n=$4 M=$5; shift 5
    while [ "$n" -gt 0 ]; do export "$1"; shift; n=$((n - 1)); done
    shift
    if [ -n "$cwd" ]; then cd "$cwd" || { echo 125 > "$st/rc"; printf "%s EXITED rc=125\n" "$M" >&2; exit 125; }; fi
    "$@" </dev/null
    rc=$?
    echo $rc > "$st/rc.tmp" && mv "$st/rc.tmp" "$st/rc"
    printf "%s EXITED rc=%s\n" "$M" "$rc" >&2
  ' cgspawn-task "$cg" "$st" "$cwd" "$nenv" "$M" "$@" </dev/null &
  i=0
  until populated "$cg" || [ -e "$st/rc" ] || [ $i -ge 500 ]; do i=$((i + 1)); sleep 0.01; done
  trap '' PIPE HUP
  say "STARTED cgroup=$cg pids=[$(top_procs "$cg")] host=$(host) boot_id=$(boot)"
  last=$(date +%s) reason= tmo=0.05
  while :; do
    [ -d "$cg" ] || { reason=destroyed; break; }
    b=$(timeout $tmo dd bs=1 count=1 2>/dev/null); r=$?
    case $tmo in 0.05) tmo=0.1;; 0.1) tmo=0.2;; *) tmo=0.5;; esac
    now=$(date +%s)
    if [ $r = 0 ]; then
      [ -z "$b" ] && { reason=stdin-eof; break; }
      last=$now
    elif [ "$lease" -gt 0 ] && [ $((now - last)) -ge "$lease" ]; then reason=lease-expired; break; fi
  done
  if [ "$reason" != destroyed ] && [ "$lease" -gt 0 ]; then kill_tree "$cg" 0 10000; fi
  rc=$(cat "$st/rc" 2>/dev/null)
  msg="ENDED reason=$reason rc=${rc:-none} at=$(date -u +%Y-%m-%dT%H:%M:%SZ) cgroup_removed=$([ -d "$cg" ] && echo no || echo yes)"
  [ -d "$st" ] && echo "$msg" > "$st/ended"
  say "$msg"
}
killmode() {
  exec 3>&1
  name=$1 grace=$2 verify=$3
  valid "$name" || { say "ERR bad task name"; exit 125; }
  say "HELLO host=$(host) boot_id=$(boot)"
  root=$(cg2) st=$(state_dir "$1")
  base=$root/cgspawn-remote cg=$root/cgspawn-remote/$name
  ended=$(cat "$st/ended" 2>/dev/null)
  if [ -z "$root" ] || [ ! -d "$cg" ]; then
    rm -rf "$st"; rmdir "$base" 2>/dev/null
    say "GONE cgroup=$cg boot_id=$(boot) agent=${ended:-none}"; exit 0
  fi
  kill_tree "$cg" "$grace" "$verify"
  if [ ! -d "$cg" ]; then
    rm -rf "$st"; rmdir "$base" 2>/dev/null
    say "KILLED cgroup=$cg boot_id=$(boot) killed=[$killed]"; exit 0
  fi
  say "NOT-EMPTY cgroup=$cg boot_id=$(boot) left=[$(named "$cg")]"; exit 1
}
case $mode in
  probe) probe;;
  run) run "$@";;
  kill) killmode "$@";;
  *) echo "$M ERR unknown agent mode $mode"; exit 125;;
esac
)AGENT";
  return script;
}

std::string agent_command(const std::string& mark, const std::string& mode, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"sh", "-c", agent_script(), "cgspawn-agent", mark, mode};
  argv.insert(argv.end(), args.begin(), args.end());
  return remote_command(argv);
}

}  // namespace cgspawn::remote
