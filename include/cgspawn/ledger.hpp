// The Ledger: the on-disk record of every task and Resource, written before a resource is
// made (intent) and updated after, so `list` and `reap` find what a crashed caller left.
//
// Layout: DIR/<id>/record.json (replaced atomically: temporary file + rename), DIR/<id>/ holds
// the task's default stdout/stderr too; DIR/parents lists the parent cgroups ever used.
// DIR is /run/cgspawn for root, $XDG_RUNTIME_DIR/cgspawn for a user; owned by the user, 0700.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgspawn/result.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn {

// The process that holds a task: the supervisor (start), `cgspawn run`, or a library caller.
// The start time pins it, so a reused pid is never taken for the owner.
struct OwnerRef {
  int pid = 0;
  unsigned long long start_time = 0;
  std::string kind;  // "supervisor", "run", "library"
};

bool owner_alive(const OwnerRef& owner);
OwnerRef self_owner(const std::string& kind);

enum class TaskState { starting, running, exited };
std::string_view to_string(TaskState state);

struct ResourceRecord {
  std::string kind;
  std::string id;
  std::string state;  // "intended" (about to be made), "created", "destroyed", "failed"
  // What a backend needs to find and verify it later: a conmon's pid and start time, the
  // host and ssh config of a remote unit, the bus of a systemd unit, ...
  std::map<std::string, std::string> attributes;
};

struct TaskRecord {
  std::string id;
  std::string backend;
  std::vector<std::string> argv;
  std::map<std::string, std::string> labels;
  TaskState state = TaskState::starting;
  OwnerRef owner;
  std::vector<ResourceRecord> resources;
  int main_pid = 0;
  std::string stdout_path;
  std::string stderr_path;
  double created_unix = 0;        // wall-clock seconds
  std::optional<Result> result;   // once the task has ended
};

// The record of a task about to start, before any resource is added: id, backend, argv,
// labels and stdio paths from the spec, this process as its owner, the time now.
TaskRecord new_task_record(const TaskSpec& spec, const std::string& backend, const std::string& owner_kind);

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

  // Holds the per-task lock (flock on the task's directory) while it lives.
  class Lock;
  Lock lock(const std::string& id) const;  // throws unknown_task for an unknown id

  void note_parent(const std::string& parent) const;
  std::vector<std::string> parents() const;

  std::string task_dir(const std::string& id) const;  // throws for an invalid id

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

// After a task's finish: a complete cleanup removes its record (unless `keep`: then it stays,
// state exited, carrying the Result until `destroy` collects it); otherwise the record keeps
// the Result and marks each resource by its row's outcome (rows and resources in the same
// order; else all by the report's completeness), for `reap`. Never throws: a failure is logged.
void record_finished(const Ledger& ledger, TaskRecord& record, const Result& result, bool keep, bool durable = false);

// A resource of cgspawn's naming that no record names: a task cgroup under a parent this
// ledger used, or a cgspawn-* unit of the caller's systemd manager.
struct Orphan {
  ResourceRecord resource;  // kind, id, and what destroying it needs
  bool ours;                // marked as this ledger's (xattr, or the unit's Description): safe to destroy
};

struct TaskReport {
  std::string id;
  CleanupReport cleanup;
  std::optional<Result> result;
  std::string note;  // e.g. "destroyed by a concurrent caller", "owner is alive"
};

// Destroys the task: asks a live supervisor to do it (and waits), or, when the owner is gone,
// destroys the recorded resources itself. Removes the record when the cleanup is complete.
// Never throws for a failure of the destroy itself (rows say it); throws unknown_task for an
// unknown id.
TaskReport destroy_task(const Ledger& ledger, const std::string& id, const DestroyOptions& options);

// Orphans: task cgroups named "cgspawn-*" under this ledger's parents, and cgspawn-* units of
// the caller's manager (the system's for root), with no record and no other ledger's mark.
std::vector<Orphan> find_orphans(const Ledger& ledger);

struct ReapReport {
  std::vector<TaskReport> tasks;
  CleanupReport orphans;
  std::vector<std::string> corrupt;  // "<file>: <why>": records reap could not read (not complete)
  bool complete() const;
};

// Destroys every task whose owner is gone (and, with `orphans`, every orphan cgroup marked as
// this ledger's). `labels`: only tasks carrying all of them.
ReapReport reap(const Ledger& ledger, const std::map<std::string, std::string>& labels, bool orphans,
                const DestroyOptions& options);

}  // namespace cgspawn
