// SPDX-License-Identifier: MIT
// The CLI's exit statuses (tools/cgspawn/exit_codes.cc): the program's own, 128+N, 124, 125,
// 126, 127 -- as timeout(1) and env(1).
#include <doctest/doctest.h>

#include <csignal>

#include "exit_codes.hpp"

using namespace cgspawn;
using cgspawn::cli::exit_code_for;

namespace {

Result result(std::optional<int> code, std::optional<int> signal, ExitReason reason,
              Outcome outcome = Outcome::destroyed) {
  Result r;
  r.exit.code = code;
  r.exit.signal = signal;
  r.exit.reason = reason;
  ResourceOutcome row;
  row.resource = {ResourceKind::cgroup, "/x"};
  row.outcome = outcome;
  r.cleanup.resources.push_back(row);
  return r;
}

}  // namespace

TEST_CASE("exit status of a task that ran") {
  CHECK(exit_code_for(result(0, {}, ExitReason::exited), 0) == 0);
  CHECK(exit_code_for(result(7, {}, ExitReason::exited), 0) == 7);
  CHECK(exit_code_for(result(255, {}, ExitReason::exited), 0) == 255);
  CHECK(exit_code_for(result({}, SIGKILL, ExitReason::signaled), 0) == 128 + SIGKILL);
  CHECK(exit_code_for(result({}, SIGSEGV, ExitReason::signaled), 0) == 128 + SIGSEGV);
  CHECK(exit_code_for(result({}, SIGTERM, ExitReason::timed_out), 0) == 124);
  CHECK(exit_code_for(result(0, {}, ExitReason::timed_out), 0) == 124);
  // cgspawn itself got SIGTERM/SIGINT/SIGHUP and destroyed the task.
  CHECK(exit_code_for(result({}, SIGTERM, ExitReason::destroyed), SIGTERM) == 128 + SIGTERM);
  CHECK(exit_code_for(result({}, SIGTERM, ExitReason::destroyed), SIGINT) == 128 + SIGINT);
  CHECK(exit_code_for(result(0, {}, ExitReason::exited), SIGHUP) == 128 + SIGHUP);
  // No status at all (the main process survived even SIGKILL).
  CHECK(exit_code_for(result({}, {}, ExitReason::destroyed), 0) == 125);
}

TEST_CASE("exit status 125 whenever the cleanup is not complete") {
  CHECK(exit_code_for(result(0, {}, ExitReason::exited, Outcome::failed), 0) == 125);
  CHECK(exit_code_for(result(3, {}, ExitReason::exited, Outcome::not_guaranteed), 0) == 125);
  CHECK(exit_code_for(result({}, 15, ExitReason::timed_out, Outcome::failed), 0) == 125);
  CHECK(exit_code_for(result({}, 15, ExitReason::destroyed, Outcome::failed), SIGTERM) == 125);
  CHECK(exit_code_for(result(3, {}, ExitReason::exited, Outcome::already_gone), 0) == 3);
  CHECK(exit_code_for(result(3, {}, ExitReason::exited, Outcome::kept), 0) == 3);
}

TEST_CASE("exit status of a task that could not start") {
  CHECK(exit_code_for(Error(ErrorKind::not_found, "x")) == 127);
  CHECK(exit_code_for(Error(ErrorKind::not_executable, "x")) == 126);
  CHECK(exit_code_for(Error(ErrorKind::invalid_argument, "x")) == 125);
  CHECK(exit_code_for(Error(ErrorKind::unsupported, "x")) == 125);
  CHECK(exit_code_for(Error(ErrorKind::system, "x")) == 125);
}
