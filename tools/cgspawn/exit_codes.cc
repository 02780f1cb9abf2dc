// SPDX-License-Identifier: MIT
#include "exit_codes.hpp"

namespace cgspawn::cli {

int exit_code_for(const Result& result, int caught_signal) {
  if (!result.cleanup.complete()) return kCgspawnError;  // the Result still has the task's own
  if (caught_signal) return 128 + caught_signal;
  const ExitStatus& exit = result.exit;
  if (exit.reason == ExitReason::timed_out) return kTimedOut;
  if (result.cleanup.fail_on_leftovers && result.cleanup.leftovers > 0) return kLeftovers;
  if (exit.code) return *exit.code;
  if (exit.signal) return 128 + *exit.signal;
  return kCgspawnError;
}

int exit_code_for(const Error& error) {
  switch (error.kind()) {
    case ErrorKind::not_found:
      return kNotFound;
    case ErrorKind::not_executable:
      return kNotExecutable;
    default:
      return kCgspawnError;
  }
}

}  // namespace cgspawn::cli
