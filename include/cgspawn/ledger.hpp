// SPDX-License-Identifier: MIT
// The Ledger: the on-disk record of every task and Resource, written before a resource is
// made (intent) and updated after, so `list` and `reap` find what a crashed caller left.
//
// Layout: DIR/<id>/record.json (replaced atomically: temporary file + rename), DIR/<id>/ holds
// the task's default stdout/stderr too; DIR/parents lists the parent cgroups ever used;
// DIR/.index has each record's summary, for summaries() (docs/architecture.md).
// DIR is /run/cgspawn for root, $XDG_RUNTIME_DIR/cgspawn for a user; owned by the user, 0700.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/result.hpp"

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

// The process that holds a task: the supervisor (start), `cgspawn run`, or a library caller.
// The start time pins it, so a reused pid is never taken for the owner.
enum class OwnerKind {
  library,     // a runner that linked the library
  run,         // `cgspawn run`
  supervisor,  // the supervisor of `cgspawn start`
};
std::string_view to_string(OwnerKind kind);

struct OwnerRef {
  int pid = 0;
  unsigned long long start_time = 0;
  OwnerKind kind = OwnerKind::library;
};

bool owner_alive(const OwnerRef& owner);
OwnerRef self_owner(OwnerKind kind);

enum class TaskState { starting, running, exited };
std::string_view to_string(TaskState state);

enum class ResourceState {
  intended,  // about to be made (it may exist if the maker died just after)
  created,
  destroyed,  // verified gone (or kept on request)
  failed,     // a destroy could not verify it is gone
};
std::string_view to_string(ResourceState state);

struct ResourceRecord {
  Resource resource;
  ResourceState state = ResourceState::intended;
  // What a backend needs to find and verify it later: a conmon's pid and start time, the
  // host and ssh config of a remote unit, the bus of a systemd unit, ...
  std::map<std::string, std::string> attributes;

  // The attribute `key`, or "" when the record has none.
  std::string attribute(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  }
};

struct TaskRecord {
  std::string id;
  std::string backend;
  std::vector<std::string> argv;
  std::map<std::string, std::string> labels;
  TaskState state = TaskState::starting;
  OwnerRef owner;
  std::optional<OwnerRef> bound_to;  // destroyed when this process dies (TaskSpec::bound_to)
  std::vector<ResourceRecord> resources;
  int main_pid = 0;
  std::string stdout_path;
  std::string stderr_path;
  double created_unix = 0;       // wall-clock seconds
  std::optional<Result> result;  // once the task has ended
};

// What `list` shows of a task and what selects it: its record without the argv, output
// paths, main pid, result and resource attributes. Ledger::summaries() reads them from one
// index file instead of every record.
struct TaskSummary {
  std::string id;
  std::string backend;
  std::map<std::string, std::string> labels;
  TaskState state = TaskState::starting;
  OwnerRef owner;
  std::optional<OwnerRef> bound_to;
  std::vector<ResourceRecord> resources;  // kind, id and state; no attributes
  double created_unix = 0;
};
TaskSummary summary_of(const TaskRecord& record);

class Ledger {
 public:
  // Opens (creating it if needed) the ledger directory. Refuses, with the reason, a directory
  // that is not owned by the caller or is open to others.
  explicit Ledger(std::string dir = default_dir());
  static std::string default_dir();
  const std::string& dir() const { return dir_; }

  // Makes the task's directory before its record exists (to hold files the task needs, such
  // as its stdout); throws invalid_argument when the id is taken.
  void reserve(const std::string& id) const;
  // Writes a new record (in a directory reserved for it, or a new one); throws
  // invalid_argument when the id already has a record (of two racing writers, exactly one
  // wins). `durable` as for update().
  void create(const TaskRecord& record, bool durable = false) const;
  // Replaces the record atomically. `durable`: fsync too (resources that outlive a reboot).
  void update(const TaskRecord& record, bool durable = false) const;
  // Adds a resource found after the record was written (a process seen leaving the task's
  // cgroup), without rewriting the record: a line appended to the task's `found` file, which
  // read() merges in. Safe beside a concurrent update() of the same record.
  void add_found(const std::string& id, const ResourceRecord& resource) const;
  // nullopt when there is no such task. Throws naming the file when it is corrupt.
  std::optional<TaskRecord> read(const std::string& id) const;
  void remove(const std::string& id) const;  // the record and the task's directory

  struct Listing {
    std::vector<TaskRecord> tasks;
    std::vector<std::string> corrupt;  // "<file>: <why>", one per unreadable record
    // Task directories with no record yet, whose reserver is gone: a start that died before
    // it recorded anything (it made nothing else either). reap removes them.
    std::vector<std::string> abandoned;
  };
  Listing list() const;

  // What list() says of every task, as summaries, read from the ledger's index
  // (DIR/.index) instead of every record: exact, not a cache that can lag (a task whose
  // last change was cut short by a crash is read from its record; docs/architecture.md).
  struct SummaryListing {
    std::vector<TaskSummary> tasks;      // oldest first
    std::vector<std::string> corrupt;    // as in Listing
    std::vector<std::string> abandoned;  // as in Listing
  };
  SummaryListing summaries() const;
  // The same, one summary at a time to `visit` (oldest first), never all of them in memory;
  // returns the corrupt records. `without_record`: the ids of task directories with no record.
  std::vector<std::string> for_each_summary(const std::function<void(const TaskSummary&)>& visit,
                                            std::vector<std::string>* without_record = nullptr) const;

  // Holds the per-task lock (flock on the task's directory) while it lives.
  class Lock;
  Lock lock(const std::string& id) const;  // throws unknown_task for an unknown id

  void note_parent(const std::string& parent) const;
  std::vector<std::string> parents() const;

  std::string task_dir(const std::string& id) const;  // throws for an invalid id

  // Where a started task's output goes by default: on disk (the ledger is usually on a
  // tmpfs, which a chatty task would fill), under output_root(), removed with the record.
  // $CGSPAWN_OUTPUT_ROOT, else /var/tmp/cgspawn/output for root, /var/tmp/cgspawn-UID/output
  // for a user (made 0700, and refused when not the caller's own).
  static std::string output_root();
  std::string output_dir(const std::string& id) const;
  std::string make_output_dir(const std::string& id) const;  // throws naming the directory

 private:
  std::string dir_;
};

class Ledger::Lock {
 public:
  explicit Lock(int fd) : fd_(fd) {}
  Lock(Lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Lock(const Lock&) = delete;
  ~Lock();

 private:
  int fd_;
};

}  // namespace cgspawn

#pragma GCC visibility pop
