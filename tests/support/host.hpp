// SPDX-License-Identifier: MIT
// What the host tests stand on: the cgroup2 mount (found by discovery, independent of the
// library's own), per-test parent cgroups that are always killed and removed, temporary
// directories, and checks that processes are really gone.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "case_log.hpp"

namespace cgtest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Where cgroup2 is mounted: /sys/fs/cgroup (pure v2), /sys/fs/cgroup/unified (hybrid), or the
// first cgroup2 mount elsewhere. "" when there is none.
std::string cgroup2_mount();

// The mount point of the cgroup v1 hierarchy holding `controller`, or "" when none does.
std::string v1_mount(const std::string& controller);

// Every cgroup mount point: the cgroup2 one and each v1 hierarchy's (none on a pure v2 host).
std::vector<std::string> cgroup_mounts();

// Every name this suite gives a cgroup starts with this, so leftovers are easy to find.
inline constexpr const char* kPrefix = "cgspawn-test-";

// "cgspawn-test-<pid>-<n>": unique within this run of this binary.
std::string unique_name();

// How many cleanups in fixture teardowns failed (checked by the test main).
int teardown_failures();
void note_teardown_failure(const std::string& what);

// Kills everything in the cgroup tree at `path` (cgroup.kill, or freeze + SIGKILL where there
// is no cgroup.kill), waits for it to be empty, and removes it bottom-up. True when gone.
bool kill_and_remove(const std::string& path, std::chrono::milliseconds timeout = 10s);

// A parent cgroup of the test's own: <mount>/cgspawn-test-<pid>-<n>. The destructor kills
// and removes everything below it, even when the test failed.
class TestParent {
 public:
  TestParent();  // throws std::runtime_error (loudly) when there is no cgroup2 or no root
  ~TestParent();
  TestParent(const TestParent&) = delete;
  TestParent& operator=(const TestParent&) = delete;

  const std::string& path() const { return path_; }
  // The task cgroup the process backend makes for task `id`.
  std::string task_path(const std::string& id) const { return path_ + "/cgspawn-" + id; }
  // "/cgspawn-test-..." as /proc/PID/cgroup shows it.
  std::string relative() const;
  // Names of the cgroups below it (empty: nothing left).
  std::vector<std::string> children() const;
  // Enables `controller` ("memory", "pids", "cpu") for the cgroups below it, as a host that
  // delegates it would: cgspawn enables controllers only in cgroups it made itself.
  void hand_down(const std::string& controller) const;

 private:
  std::string path_;
};

// A temporary directory, /tmp/cgspawn-test-<pid>-XXXXXX, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

bool exists(const std::string& path);
std::optional<std::string> read_text(const std::string& path);
void write_text(const std::string& path, const std::string& text, unsigned mode = 0644);
std::vector<std::string> split_lines(const std::string& text);
// `word` is one of the whitespace-separated words of `text`.
bool has_word(const std::string& text, const std::string& word);

// The numbers in FILE, one per line (lines that are not numbers are skipped).
std::vector<pid_t> read_pids(const std::string& file);

// Waits (polling, 10 ms) until FILE has at least `lines` lines. False at the timeout.
bool wait_for_lines(const std::string& file, size_t lines, std::chrono::milliseconds timeout = 20s);

// A process as seen while it was alive: pid and start time, so a reused pid is never
// mistaken for it.
struct ProcessId {
  pid_t pid = 0;
  unsigned long long start = 0;  // field 22 of /proc/PID/stat; 0 when it was already gone
};

// Reads each pid's start time now (call it while they live).
std::vector<ProcessId> identify(const std::vector<pid_t>& pids);

// True when the process has ended: /proc has no such pid, it is a zombie (dead, not reaped
// yet), or the pid now belongs to a process with another start time.
bool is_gone(const ProcessId& process);

// Waits (polling, 10 ms) until every process is gone; returns the ones still alive.
std::vector<pid_t> still_alive(const std::vector<ProcessId>& processes,
                               std::chrono::milliseconds timeout = 5s);

// The pids that still run inside the cgroup tree `cgroup_prefix` ("/cgspawn-test-..." as
// /proc/PID/cgroup shows it), waiting (polling, 10 ms) up to `timeout` for them to go. A pid
// reused by a process elsewhere does not count.
std::vector<pid_t> alive_below(const std::vector<pid_t>& pids, const std::string& cgroup_prefix,
                               std::chrono::milliseconds timeout = 5s);

// The one-letter state of PID ("" when it does not exist).
std::string process_state(pid_t pid);
// What each open descriptor of `pid` points at, as /proc/PID/fd shows it
// ("anon_inode:inotify", "socket:[123]", a path); empty when the process is gone.
std::vector<std::string> fd_targets(pid_t pid);
// The session id of PID (field 6 of /proc/PID/stat), -1 when it does not exist.
pid_t session_of(pid_t pid);
// Waits up to `timeout` until PID runs `comm` (/proc/PID/comm): `sleep 1000 & echo $!` names the
// forked shell, which execs sleep a moment later; freezing it before then freezes a shell.
bool wait_for_comm(pid_t pid, const std::string& comm, std::chrono::milliseconds timeout = 10s);
// The cgroup2 path of PID from /proc/PID/cgroup ("0::/x" -> "/x"), "" when unknown.
std::string cgroup_of(pid_t pid);

// Path of a program the build made, from an environment variable meson sets.
std::string built_program(const char* env_name);

// Polls `done` every 10 ms until true or the timeout. Returns its last value.
template <typename F>
bool eventually(F done, std::chrono::milliseconds timeout = 10s);

double seconds_since(Clock::time_point start);

}  // namespace cgtest

#include <thread>

template <typename F>
bool cgtest::eventually(F done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}
