// SPDX-License-Identifier: MIT
// Running programs (the cgspawn CLI above all) as whole processes, with their output captured.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "host.hpp"

namespace cgtest {

struct RunResult {
  int exit_code = -1;   // when it exited
  int term_signal = 0;  // when a signal ended it
  bool hung = false;    // the timeout ran out and it was killed
  std::string out, err;
  double seconds = 0;
  std::vector<std::string> err_lines() const;  // stderr, one entry per line, no empty last line
};

// One program started with stdin from /dev/null and stdout/stderr into files.
class Child {
 public:
  // `set_env`: NAME=VALUE added to the environment; `unset_env`: names removed from it.
  // $CGSPAWN_STATE_DIR (cgspawn's ledger) is a directory of the child's own unless set here.
  explicit Child(std::vector<std::string> argv, std::vector<std::string> set_env = {},
                 std::vector<std::string> unset_env = {});
  ~Child();  // kills and reaps it if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Waits for it to end; after `timeout` it is killed (hung = true).
  RunResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  Clock::time_point started_;
  bool reaped_ = false;
};

// $CGSPAWN_BIN, the CLI under test.
std::string cgspawn_bin();
// $CGSPAWN_TEST_HELPER, tests/support/helper.cc.
std::string helper_bin();

// cgspawn ARGS..., to the end.
RunResult run_cgspawn(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace cgtest
