// SPDX-License-Identifier: MIT
// TaskSpec: everything cgspawn needs to know to start one task.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

using Duration = std::chrono::nanoseconds;

// Resource limits, enforced through the task cgroup's controllers. A limit the host cannot
// enforce makes spawn() fail; it is never silently dropped.
struct Limits {
  std::optional<std::uint64_t> memory_max_bytes;  // memory.max (and memory.swap.max = 0)
  std::optional<std::uint64_t> pids_max;          // pids.max
  std::optional<std::uint32_t> cpu_max_percent;   // cpu.max; 100 = one whole CPU

  bool empty() const { return !memory_max_bytes && !pids_max && !cpu_max_percent; }
};

// What destroy does with leftovers: processes besides the main one, processes that left the
// task's boundary, SysV IPC the task made.
enum class LeftoversPolicy {
  kill,    // destroy everything and report it (the default)
  fail,    // as kill, and the task fails: run/wait exit 122 when anything had to be destroyed
  report,  // name them; kill nothing outside the task's boundary, remove no IPC
};

struct TaskSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::string> env;   // NAME=VALUE, added to (or replacing in) the environment
  bool inherit_env = true;        // start from the caller's environment
  std::string cwd;                // empty: the caller's working directory
  int stdin_fd = -1;              // -1: the caller's own stdin/stdout/stderr
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::string stdout_path;  // where stdout_fd leads (a file), shown in the task's record
  std::string stderr_path;
  Limits limits;
  std::optional<Duration> timeout;            // Task::wait() destroys the task after it
  Duration grace = std::chrono::seconds(5);   // SIGTERM -> SIGKILL delay on destroy
  std::map<std::string, std::string> labels;  // stored with the task, shown in the Result
  std::string id;                             // empty: cgspawn makes one up
  // A process the task is bound to: when it dies, the task is destroyed (within seconds, by a
  // watcher process per bound process and ledger) whoever else still holds it. 0: none. Needs
  // a ledger. getpid() makes the task die with its caller.
  int bound_to = 0;
  LeftoversPolicy on_leftovers = LeftoversPolicy::kill;
  // Follow the task's processes by descent (the process events connector, as root), to find
  // those that leave its cgroup. Off: only the cgroup is destroyed (for measuring the cost).
  bool track_lineage = true;
  // Storage (docs/backends.md, "Storage"). `scratch`: a private directory made for the task
  // before it starts, in $CGSPAWN_SCRATCH (and $TMPDIR unless env sets it), removed and verified
  // gone at destroy (`keep_scratch`: left, its row `kept`). On the remote backend it is made on
  // the remote host. Under `scratch_root` (empty: /var/tmp/cgspawn).
  bool scratch = false;
  bool keep_scratch = false;
  std::string scratch_root;
  // A /tmp, /var/tmp and /dev/shm of the task's own (empty tmpfs, gone with the task), and an
  // IPC namespace of its own (SysV IPC, POSIX message queues). Refused where the host cannot.
  bool private_tmp = false;
  bool private_ipc = false;
  // Destroyed while its main program runs (timeout, destroy, a signal to `cgspawn run`): first
  // describe what its processes were doing (Result::hang). Off: destroy at once.
  bool hang_report = true;
};

}  // namespace cgspawn

#pragma GCC visibility pop
