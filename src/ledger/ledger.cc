// SPDX-License-Identifier: MIT
#include "cgspawn/ledger.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "cgspawn/parse.hpp"
#include "ledger/record_index.hpp"
#include "ledger/record_json.hpp"
#include "ledger/task_dirs.hpp"
#include "ledger/task_tree.hpp"
#include "report/json_codec.hpp"
#include "util/crash_point.hpp"
#include "util/file_io.hpp"
#include "util/sys_error.hpp"
#include "util/syscalls.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

constexpr const char* kRecord = "record.json";
constexpr const char* kFound = "found";  // one JSON resource per line (add_found)

// The directory must be ours and closed to everyone else: records name cgroups to destroy, and
// the tasks' output is theirs. `what` names it in the error: "state directory", ...
void check_private(const std::string& dir, const std::string& what) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) throw_sys(what + " " + dir, errno);
  if (!S_ISDIR(st.st_mode))
    throw Error(ErrorKind::invalid_argument, what + " " + dir + " is not a directory");
  if (st.st_uid != ::geteuid())
    throw Error(ErrorKind::invalid_argument, what + " " + dir + " is owned by uid " +
                                                 std::to_string(st.st_uid) + ", not by you (uid " +
                                                 std::to_string(::geteuid()) + ")");
  if ((st.st_mode & 0777) != 0700) {  // open to nobody else, and usable by its owner
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    throw Error(ErrorKind::invalid_argument,
                what + " " + dir + " has mode " + mode + ": it must be 0700 (only you)");
  }
}

void make_private_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p(dir);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_sys("create state directory " + dir, errno);
}

// A temporary file of this thread's own next to `path`, with `text` in it (fsynced if durable).
std::string write_temporary(const std::string& path, const std::string& text, bool durable) {
  static std::atomic<unsigned> serial{0};
  std::string temp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++);
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) throw_sys("write " + temp, errno);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    int err = errno;
    ::unlink(temp.c_str());
    throw_sys("write " + temp, err);
  }
  if (durable) ::fsync(fd.get());
  return temp;
}

void sync_directory_of(const std::string& path) {
  UniqueFd dir(::open(std::filesystem::path(path).parent_path().c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
}

// Write a temporary file, then rename it over the target: a reader, or a crash at any point,
// sees the old record or the new one, never half of one.
void write_atomically(const std::string& path, const std::string& text, bool durable) {
  std::string temp = write_temporary(path, text, durable);
  if (sys::syscalls().rename_record(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    throw_sys("rename " + temp + " to " + path, err);
  }
  if (durable) sync_directory_of(path);
}

// The same, but only if there is no `path` yet (link(2) fails with EEXIST): of two writers of
// the first record of one id, exactly one wins. Returns false for the loser.
bool write_exclusively(const std::string& path, const std::string& text, bool durable) {
  std::string temp = write_temporary(path, text, durable);
  int rc = sys::syscalls().link_record(temp.c_str(), path.c_str());
  int err = errno;
  ::unlink(temp.c_str());
  if (rc != 0 && err == EEXIST) return false;
  if (rc != 0) throw_sys("link " + temp + " to " + path, err);
  if (durable) sync_directory_of(path);
  return true;
}

TaskRecord parse_record(const std::string& path, const std::string& text) {
  try {
    return record_from_json(nlohmann::json::parse(text));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::system, path + ": corrupt record (" + e.what() + ")");
  }
}

// Merges the resources add_found() appended. The record's own entry of a resource wins, but
// takes the found one's attributes where it has none (finish records found rows bare).
void merge_found(const std::string& path, TaskRecord& record) {
  auto text = read_file(path);
  if (!text) return;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    ResourceRecord found;
    try {
      found = resource_from_json(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      continue;  // a line cut short by a crash while appending
    }
    auto same = std::find_if(record.resources.begin(), record.resources.end(), [&](const ResourceRecord& r) {
      return r.resource.kind == found.resource.kind && r.resource.id == found.resource.id;
    });
    if (same == record.resources.end())
      record.resources.push_back(std::move(found));
    else if (same->attributes.empty())
      same->attributes = std::move(found.attributes);
  }
}

}  // namespace

std::string Ledger::default_dir() {
  if (const char* env = std::getenv("CGSPAWN_STATE_DIR"); env && *env) return env;
  if (::geteuid() == 0) return "/run/cgspawn";
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (!runtime || !*runtime)
    throw Error(ErrorKind::invalid_argument,
                "no state directory: XDG_RUNTIME_DIR is not set (use --state-dir or $CGSPAWN_STATE_DIR)");
  return std::string(runtime) + "/cgspawn";
}

Ledger::Ledger(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty() || dir_[0] != '/')
    throw Error(ErrorKind::invalid_argument, "state directory \"" + dir_ + "\" is not an absolute path");
  make_private_dir(dir_);
  check_private(dir_, "state directory");
}

std::string Ledger::task_dir(const std::string& id) const {
  if (!valid_task_id(id))
    throw Error(ErrorKind::invalid_argument,
                "invalid task id \"" + id + "\": use [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  return dir_ + "/" + id;
}

// Who reserved a task directory, so that one left without a record can be told from one
// about to get its record.
constexpr const char* kReservedBy = "reserved-by";

bool abandoned_reservation(const std::string& dir) {
  auto text = read_file(dir + "/" + kReservedBy);
  if (!text) {  // a crash between mkdir and this file: old enough means nobody is coming back
    struct stat st;
    return ::stat(dir.c_str(), &st) == 0 && ::time(nullptr) - st.st_mtime > 60;
  }
  OwnerRef owner;
  std::istringstream in(*text);
  in >> owner.pid >> owner.start_time;
  return !owner_alive(owner);
}

void Ledger::reserve(const std::string& id) const {
  std::string dir = task_dir(id);
  if (::mkdir(dir.c_str(), 0700) == 0) {
    OwnerRef me = self_owner(OwnerKind::library);
    write_atomically(dir + "/" + kReservedBy,
                     std::to_string(me.pid) + " " + std::to_string(me.start_time) + "\n", false);
    crash_point("start-after-reserve");  // the id is taken, nothing is recorded or made yet
    return;
  }
  if (errno == EEXIST)
    throw Error(ErrorKind::invalid_argument, "task id \"" + id + "\" is already in use in " + dir_);
  throw_sys("create " + dir, errno);
}

// Every change of a record is bracketed in the index (ledger/record_index.hpp), so that
// summaries() can tell a task whose index lines are current from one to read from its record.
void Ledger::create(const TaskRecord& record, bool durable) const {
  std::string dir = task_dir(record.id);
  if (::access(dir.c_str(), F_OK) != 0) reserve(record.id);
  IndexChange change(RecordIndex(dir_), record.id, durable);
  if (!write_exclusively(dir + "/" + kRecord, dump_json(record_to_json(record), 1) + "\n", durable))
    throw Error(ErrorKind::invalid_argument, "task id \"" + record.id + "\" is already in use in " + dir_);
  crash_point("record-before-index");
  change.written(summary_of(record));
}

void Ledger::update(const TaskRecord& record, bool durable) const {
  std::string path = task_dir(record.id) + "/" + kRecord;  // a valid id before the index names it
  IndexChange change(RecordIndex(dir_), record.id, durable);
  write_atomically(path, dump_json(record_to_json(record), 1) + "\n", durable);
  crash_point("record-before-index");
  change.written(summary_of(record));
}

std::optional<TaskRecord> Ledger::read(const std::string& id) const {
  std::string path = task_dir(id) + "/" + kRecord;
  auto text = read_file(path);
  if (!text) {
    if (errno == ENOENT) return std::nullopt;
    throw_sys("read " + path, errno);
  }
  TaskRecord record = parse_record(path, *text);
  merge_found(task_dir(id) + "/" + kFound, record);
  return record;
}

void Ledger::add_found(const std::string& id, const ResourceRecord& resource) const {
  std::string path = task_dir(id) + "/" + kFound;
  IndexChange change(RecordIndex(dir_), id, false);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) throw_sys("open " + path, errno);
  std::string line = resource_to_json(resource).dump() + "\n";  // one write: lines never interleave
  if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    throw_sys("append to " + path, errno);
  change.found(resource);
}

// The task's output goes with its record (remove_task_tree removes a symlink, never what it names).

void Ledger::remove(const std::string& id) const {
  std::string dir = task_dir(id);
  {
    IndexChange change(RecordIndex(dir_), id, false);
    remove_task_tree(dir);
    change.removed();
  }
  std::string output = output_dir(id);
  remove_task_tree(output);
  ::rmdir(std::filesystem::path(output).parent_path().c_str());  // this ledger's, once empty
}

std::string Ledger::output_root() {
  if (const char* env = std::getenv("CGSPAWN_OUTPUT_ROOT"); env && *env) return env;
  if (::geteuid() == 0) return "/var/tmp/cgspawn/output";
  return "/var/tmp/cgspawn-" + std::to_string(::geteuid()) + "/output";
}

// <output root>/<8 hex of this ledger's directory>/<id>: two ledgers' tasks of one id never meet.
std::string Ledger::output_dir(const std::string& id) const {
  unsigned h = 2166136261u;
  for (unsigned char c : dir_) h = (h ^ c) * 16777619u;
  char key[9];
  std::snprintf(key, sizeof key, "%08x", h);
  return output_root() + "/" + key + "/" + task_dir(id).substr(dir_.size() + 1);
}

std::string Ledger::make_output_dir(const std::string& id) const {
  std::string dir = output_dir(id);
  std::filesystem::path root = output_root();
  auto make = [](const std::filesystem::path& d) {
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) throw_sys("create " + d.string(), errno);
  };
  // In a directory others can write to (/var/tmp): the tree must be ours and closed to others,
  // which is checked before anything is made in it.
  make(root.parent_path());
  check_private(root.parent_path().string(), "the parent of the output root");
  for (const auto& d : {root, std::filesystem::path(dir).parent_path(), std::filesystem::path(dir)}) make(d);
  return dir;
}

Ledger::Listing Ledger::list() const {
  Listing listing;
  std::vector<std::string> ids = task_dirs(dir_);
  listing.tasks.reserve(ids.size());  // a record's move may throw: growing would copy them all
  for (const auto& id : ids) {
    try {
      if (auto record = read(id))
        listing.tasks.push_back(std::move(*record));
      else if (abandoned_reservation(task_dir(id)))
        listing.abandoned.push_back(id);
    } catch (const Error& e) {
      listing.corrupt.push_back(e.what());
    }
  }
  std::sort(listing.tasks.begin(), listing.tasks.end(),
            [](const TaskRecord& a, const TaskRecord& b) { return a.created_unix < b.created_unix; });
  return listing;
}

Ledger::Lock Ledger::lock(const std::string& id) const {
  std::string dir = task_dir(id);
  int fd = ::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw Error(ErrorKind::unknown_task, "no task \"" + id + "\" in " + dir_);
    throw_sys("open " + dir, errno);
  }
  while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  return Lock(fd);
}

Ledger::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

void Ledger::note_parent(const std::string& parent) const {
  // Under the ledger's own lock: two spawns under a new parent must not drop each other's line.
  UniqueFd lock(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (lock.valid()) ::flock(lock.get(), LOCK_EX);
  auto known = parents();
  if (std::find(known.begin(), known.end(), parent) != known.end()) return;
  known.push_back(parent);
  std::string text;
  for (const auto& p : known) text += p + "\n";
  write_atomically(dir_ + "/parents", text, false);
}

std::vector<std::string> Ledger::parents() const {
  std::vector<std::string> out;
  std::istringstream in(read_file(dir_ + "/parents").value_or(""));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace cgspawn
