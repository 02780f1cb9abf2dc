// The names of outcomes and exit reasons, as they appear in JSON, text and docs.
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/result.hpp"

namespace cgspawn {

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::destroyed: return "destroyed";
    case Outcome::already_gone: return "already-gone";
    case Outcome::kept: return "kept";
    case Outcome::not_guaranteed: return "not-guaranteed";
    case Outcome::failed: return "failed";
  }
  return "failed";
}

std::string_view to_string(ExitReason reason) {
  switch (reason) {
    case ExitReason::exited: return "exited";
    case ExitReason::signaled: return "signaled";
    case ExitReason::timed_out: return "timed-out";
    case ExitReason::destroyed: return "destroyed";
  }
  return "exited";
}

bool CleanupReport::complete() const {
  for (const auto& row : resources) {
    if (row.outcome != Outcome::destroyed && row.outcome != Outcome::already_gone &&
        row.outcome != Outcome::kept)
      return false;
  }
  return true;
}

}  // namespace cgspawn
