// SPDX-License-Identifier: MIT
// exit.cause from the evidence (src/task/exit_cause.hpp): every value, and the OOM cases that
// cannot be made on demand on a shared host (the host's own OOM killer).
#include <doctest/doctest.h>
#include <signal.h>

#include "report/names.hpp"
#include "task/exit_cause.hpp"

using namespace cgspawn;

namespace {

ExitStatus exited(int code) {
  return {code, std::nullopt, ExitReason::exited, ExitCause::exited};
}
ExitStatus killed(int sig, ExitReason reason = ExitReason::signaled) {
  return {std::nullopt, sig, reason, ExitCause::exited};
}

}  // namespace

TEST_CASE("exit cause: what ended the task, by the evidence") {
  CHECK(exit_cause(exited(3), {}) == ExitCause::exited);
  CHECK(exit_cause(killed(SIGKILL), {}) == ExitCause::signal);
  CHECK(exit_cause(killed(SIGKILL), {false, false, 0, 0}) == ExitCause::signal);
  // OOM: its own limit (its cgroup counted it) before the host's (only the host counted one).
  CHECK(exit_cause(killed(SIGKILL), {false, false, 1, 1}) == ExitCause::oom_limit);
  CHECK(exit_cause(killed(SIGKILL), {false, false, 0, 2}) == ExitCause::oom_host);
  CHECK(exit_cause(killed(SIGKILL), {false, false, std::nullopt, 1}) == ExitCause::oom_host);
  // A main process that exited by itself did so whatever OOM kills its children met.
  CHECK(exit_cause(exited(0), {false, false, 3, 3}) == ExitCause::exited);
  // cgspawn ended it: the timeout, the caller, or its owner's death.
  CHECK(exit_cause(killed(SIGTERM, ExitReason::timed_out), {true, false, 0, 0}) == ExitCause::timeout);
  CHECK(exit_cause(killed(SIGTERM, ExitReason::destroyed), {true, false, 0, 0}) == ExitCause::destroyed);
  CHECK(exit_cause(killed(SIGTERM, ExitReason::destroyed), {true, true, 0, 0}) == ExitCause::owner_gone);
}

TEST_CASE("exit cause: names, and the cause a Result written before causes implies") {
  for (auto c : {ExitCause::exited, ExitCause::signal, ExitCause::timeout, ExitCause::destroyed,
                 ExitCause::oom_limit, ExitCause::oom_host, ExitCause::owner_gone})
    CHECK(parse_exit_cause(to_string(c)) == c);
  CHECK(to_string(ExitCause::oom_limit) == "oom-limit");
  CHECK(to_string(ExitCause::owner_gone) == "owner-gone");
  CHECK(cause_of_reason(ExitReason::timed_out) == ExitCause::timeout);
  CHECK(cause_of_reason(ExitReason::signaled) == ExitCause::signal);
  CHECK(host_oom_kills().has_value());  // /proc/vmstat has oom_kill on every kernel cgspawn runs on
}
