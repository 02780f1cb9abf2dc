// CleanupReport: one row per Resource a task owned, and what became of it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cgspawn {

// The kinds of Resource, used the same way in code, JSON and docs.
namespace kind {
inline constexpr std::string_view cgroup = "cgroup";
inline constexpr std::string_view process = "process";
inline constexpr std::string_view process_group = "process-group";
inline constexpr std::string_view scope = "scope";
inline constexpr std::string_view service = "service";
inline constexpr std::string_view container = "container";
inline constexpr std::string_view conmon = "conmon";
inline constexpr std::string_view ssh_master = "ssh-master";
inline constexpr std::string_view remote_unit = "remote-unit";
inline constexpr std::string_view remote_cgroup = "remote-cgroup";
inline constexpr std::string_view directory = "directory";
}  // namespace kind

struct Resource {
  std::string kind;  // one of cgspawn::kind
  std::string id;    // where it lives: a cgroup path, a unit name, a container id, ...
};

enum class Outcome {
  destroyed,       // verified gone
  already_gone,    // gone before cgspawn acted
  kept,            // left on purpose, by request
  not_guaranteed,  // cgspawn could not verify it is gone
  failed,          // verified still there (survivors listed), or an error stopped the destroy
};

std::string_view to_string(Outcome outcome);

struct ProcessRef {
  int pid = 0;
  std::string comm;
  std::string state;  // the one-letter state from /proc/PID/stat; empty where not read
};

struct ResourceOutcome {
  Resource resource;
  Outcome outcome = Outcome::failed;
  std::string detail;                 // the backend's own words, or why it could not verify
  double seconds = 0;                 // how long destroying this resource took
  std::vector<ProcessRef> killed;     // processes destroy had to kill (capped; see killed_total)
  std::size_t killed_total = 0;       // how many it killed in all
  std::vector<ProcessRef> survivors;  // processes still alive at the deadline
};

struct CleanupReport {
  std::vector<ResourceOutcome> resources;

  // True when every row is destroyed, already-gone or kept.
  bool complete() const;
};

}  // namespace cgspawn
