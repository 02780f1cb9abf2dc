// SPDX-License-Identifier: MIT
// What the ledger tests stand on: a private state directory and parent cgroup per
// test, the cgspawn CLI run against exactly those, the supervisors this process adopts (it is
// a child subreaper, so no supervisor or task of a test ends up a zombie of PID 1), and the
// check that a task left nothing behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.hpp"
#include "host.hpp"

namespace ltest {

using namespace cgtest;
using nlohmann::json;

// A fresh state directory: <mkdtemp /tmp/cgspawn-test-XXXXXX>/state, mode 0700, removed with
// everything in it (and $CGSPAWN_OUTPUT_ROOT, started tasks' default output, set beside it) (the ledger may
// not be the mkdtemp directory itself: the tests check that nothing is made next to it).
class StateDir {
 public:
  StateDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& rel) const { return path_ + "/" + rel; }
  const std::string& outside() const { return tmp_.path(); }

 private:
  TempDir tmp_;
  std::string path_;
};

// The CLI against one state directory and one parent cgroup ($CGSPAWN_STATE_DIR and
// $CGSPAWN_PARENT are set for every call, so `list` and `reap` look only below this test's
// parent; `start` and `run` get --parent explicitly).
class Cg {
 public:
  Cg(const TestParent& parent, const StateDir& state) : parent_(parent), state_(state) {}
  std::vector<std::string> env(std::vector<std::string> extra = {}) const;
  std::unique_ptr<Child> spawn(const std::vector<std::string>& args,
                               std::vector<std::string> extra_env = {}) const;
  RunResult run(const std::vector<std::string>& args, std::vector<std::string> extra_env = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // start --parent P --grace 200ms --id ID -- ARGV...
  std::vector<std::string> start_args(const std::string& id, const std::vector<std::string>& argv) const;
  std::vector<std::string> run_args(const std::string& id, const std::vector<std::string>& argv) const;
  json list_json() const;                         // `list --json`, which must exit 0
  json status_json(const std::string& id) const;  // `status ID --json`; null when it fails
  const TestParent& parent() const { return parent_; }
  const StateDir& state() const { return state_; }

 private:
  const TestParent& parent_;
  const StateDir& state_;
};

// A shell workload: writes its pid and its background sleep's pid to `pidfile`, then runs
// `tail` ("exit 0": the main process ends and leaves the sleep behind; "wait": runs on).
std::vector<std::string> workload(const std::string& pidfile, const std::string& tail);

// Live (not zombie) processes whose cgroup2 path is `rel` or below it.
std::vector<pid_t> processes_below(const std::string& rel);
// Live cgspawn-supervisor processes that are children of this process (adopted).
std::vector<pid_t> adopted_supervisors();
// Live cgspawn processes (any comm "cgspawn*") descending from this process: `start` and its
// intermediate fork, supervisors before and after they are adopted.
std::vector<pid_t> cgspawn_descendants(bool supervisors_only = false);
// Waits until what a killed `start` set going has settled: no cgspawn process of ours is left
// but supervisors whose task `id` is recorded past "starting".
void settle(const Cg& cg, const std::string& id);
// Reaps every exited child: call only while no Child is being waited for.
void reap_zombies();
// Waits until no adopted supervisor lives; false at the timeout.
bool supervisors_gone(std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The verdict after a case: reap (and reap --orphans) leave no task, no orphan, no corrupt
// record, no cgroup below the parent and no process of the task. With `allow_live_owner`,
// a task still held by a live supervisor (the caller's kill came before the hand-over, or
// only `start` was killed) is destroyed by id first, and that destroy must succeed.
void check_nothing_left(const Cg& cg, const std::string& pidfile, bool allow_live_owner);

// Text of a RunResult for CAPTURE.
std::string describe_run(const RunResult& r);

}  // namespace ltest
