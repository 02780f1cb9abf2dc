// SPDX-License-Identifier: MIT
// The checks and helpers the remote suite's test files share.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "host.hpp"
#include "remote_lab.hpp"

namespace rtest::checks {

using namespace std::chrono_literals;

// The bound of a destroy that gets no answer (ConnectTimeout 5 s + 3 s), and the lease used.
inline constexpr auto kDestroyBound = 8s;
inline constexpr auto kLease = 3s;

// A fault of `lab` for a scope: removed again (`undo`) however the scope is left.
class FaultFor {
 public:
  FaultFor(const Lab& lab, const std::string& fault, std::string undo) : lab_(lab), undo_(std::move(undo)) {
    lab_.fault(fault);
  }
  ~FaultFor() {
    try {
      lab_.fault(undo_);
    } catch (const std::exception&) {
      // the suite's lab-down removes what is left of it
    }
  }
  FaultFor(const FaultFor&) = delete;
  FaultFor& operator=(const FaultFor&) = delete;

 private:
  const Lab& lab_;
  std::string undo_;
};

std::string state_dir(const cgtest::TempDir& dir);
std::string all_of(const cgtest::RunResult& r);

// Nothing of the test is left: no remote task cgroup (nor a record of the remote's installed
// cgspawn), no local ssh, no record, no ssh control directory.
void check_nothing_left(const Lab& lab, const std::string& state);
std::string installed_ledger_tasks(const Lab& lab);

// Sleeping tasks started on `lab` one by one. What is left of them, and any orphan of the
// ledger, is destroyed and reaped when this goes, even when a check stops the test first.
class Sleepers {
 public:
  explicit Sleepers(std::string state) : state_(std::move(state)) {}
  ~Sleepers();
  Sleepers(const Sleepers&) = delete;
  Sleepers& operator=(const Sleepers&) = delete;
  // Starts `sleep 600` as task `id` (REQUIREs that it started), with `start`'s `extra` options.
  void start(const Lab& lab, const std::string& id, const std::vector<std::string>& extra = {});

 private:
  std::string state_;
  std::vector<std::string> ids_;
};

// The control sockets of masters in `state`, or in the control directory `dir`.
std::vector<std::string> control_sockets(const std::string& state);
std::vector<std::string> control_sockets_in(const std::string& dir);

std::vector<std::string> hostile_words(const std::string& canary);
void check_argv_byte_exact(const Lab& lab);
void check_exit_status(const Lab& lab);
// --lease none over a partition: the destroy says the task may run on until a reap reaches
// the host, nothing there kills it meanwhile, and the reap after the partition completes.
void check_partition_without_lease(const Lab& lab);
// A task that prints status lines, with every agent mark it can find on the remote (command
// lines and environments of all processes), with another mark and with none: its own status counts.
void check_status_unforgeable(const Lab& lab);

// Waits for the remote task cgroups to hold at least `n` processes.
bool populated_with(const Lab& lab, size_t n, std::chrono::milliseconds timeout = 30s);
bool pid_alive(int pid);
double seconds_since(std::chrono::steady_clock::time_point t);

// The lines of the lab sshd's log so far that start with `prefix` ("Starting session:" per
// session, "Accepted publickey" per connection).
size_t sshd_log_lines(const Lab& lab, const std::string& prefix);

// `cgspawn reap` of `state`, which must complete (exit 0); its result, for further checks.
cgtest::RunResult reap_completes(const std::string& state);

// `cgspawn run` in the background on `lab`, with a lease, holding a remote sleep.
struct BackgroundRun {
  cgtest::TempDir dir;
  std::unique_ptr<cgtest::Child> child;
  BackgroundRun(const Lab& lab, const std::vector<std::string>& extra);
};

// A `cgspawn run` told to stop while `lab` suffers `fault` (fault.sh): it exits 125,
// not-guaranteed, within 3x the destroy bound. Returns its result; `took` is measured from the fault.
cgtest::RunResult stop_under_fault(const Lab& lab, BackgroundRun& run, const std::string& fault,
                                   double& took);

// `cgspawn start` of a setsid daemon, a SIGTERM ignorer and `sleepers` sleepers on `lab`,
// waited for until all of them are in the remote cgroup (their host pids in `pids`).
struct Escapees {
  std::string id;
  std::vector<int> pids;
};
Escapees start_escapees(const Lab& lab, const std::string& state, int sleepers);
size_t alive_count(const std::vector<int>& pids);

// A `cgspawn run` with a 3 s lease is SIGKILLed mid-task: the remote task must die within 3
// leases, and `reap` then completes (its result returned) and leaves nothing.
cgtest::RunResult check_sigkill_then_reap(const Lab& lab);

// Packets to `lab` are dropped during a `cgspawn run` with a 3 s lease, which is then told to
// stop: it exits 125, not-guaranteed, within its bound; the lease kills the remote task during
// the partition; after healing, `reap` completes and nothing is left.
void check_partition(const Lab& lab);

// A copy of the lab's client config with one line replaced.
std::string config_with(const Lab& lab, const cgtest::TempDir& dir, const std::string& key,
                        const std::string& value);
// `run` fails with exit 125 and `reason` on stderr, and leaves nothing.
void check_start_failure(const Lab& lab, const std::string& config, const std::string& reason,
                         const std::vector<std::string>& options = {});

}  // namespace rtest::checks
