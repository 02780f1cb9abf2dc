// SPDX-License-Identifier: MIT
// The fake remotes of the remote suite (tests/remote/lab-up.sh): used as given by
// run-remote-suite.sh ($CGSPAWN_REMOTE_LABS="N1 N2 N3"), or brought up and torn down here.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "cli.hpp"

namespace rtest {

struct Lab {
  int n = 0;
  bool dash_pidns = false;  // REMOTE_SHELL=/bin/dash REMOTE_PIDNS=1
  bool cgspawn = false;     // REMOTE_CGSPAWN: this build's cgspawn is installed there
  std::string alias() const { return "r" + std::to_string(n); }
  // Its non-root login (lab-up.sh: cglab, uid 2700 + N, key only) and that login's agent directory.
  unsigned user_uid() const { return 2700u + static_cast<unsigned>(n); }
  std::string user_host() const { return "cglab@" + alias(); }
  std::string user_agent_dir() const { return "/tmp/cgspawn-agent-" + std::to_string(user_uid()); }
  std::string config() const;
  std::string sshd_log() const;     // its sshd's log (LogLevel VERBOSE: a line per session)
  std::string host_cgroup() const;  // the remote's cgroup subtree, seen from this host
  // Where task cgroups are made there: by the agent, or by the installed cgspawn's process backend.
  std::string task_parent() const { return host_cgroup() + (cgspawn ? "/cgspawn" : "/cgspawn-remote"); }
  void fault(const std::string& action) const;        // fault.sh N ACTION
  std::string ssh(const std::string& command) const;  // its stdout
};

const Lab& bash_lab();
const Lab& dash_lab();
const Lab& cgspawn_lab();  // dash login shell, own PID namespace, cgspawn installed
void labs_up();            // throws (loudly) when a lab cannot start
void labs_down();          // only the labs this process brought up

// cgspawn --backend remote ... with a ledger of the test's own.
std::vector<std::string> remote_args(const std::string& verb, const Lab& lab, const std::string& state_dir,
                                     const std::vector<std::string>& extra,
                                     const std::vector<std::string>& argv);
// The environment of a cgspawn on that ledger: started tasks' default output goes beside it
// (output_root), not to /var/tmp, so a test that removes a record leaves nothing on the host.
std::vector<std::string> cgspawn_env(const std::string& state_dir);
std::string output_root(const std::string& state_dir);
// cgspawn ARGS... ($CGSPAWN_BIN): the argv of a child.
std::vector<std::string> cgspawn_argv(const std::vector<std::string>& args);
cgtest::RunResult cgspawn_in(const std::string& state_dir, const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout = std::chrono::seconds(90));

// Task cgroups of the agent on `lab` (names), and their processes (host pids).
std::vector<std::string> remote_task_cgroups(const Lab& lab);
std::vector<int> remote_task_pids(const Lab& lab);
// Local ssh processes whose command line mentions `text` (e.g. the test's ledger dir).
std::vector<int> local_ssh_processes(const std::string& text);
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace rtest
