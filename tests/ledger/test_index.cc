// SPDX-License-Identifier: MIT
// The ledger's index (DIR/.index): Ledger::summaries(), which `list` shows, says
// exactly what the records say (what list() reads from every record), through every kind of
// change, a writer killed between a record and its index line, a closing line that cannot be
// appended, records written without the index, a damaged index, compactions racing with writers
// in other processes.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <thread>

#include "cgspawn/ledger.hpp"
#include "ledger/index_lines.hpp"
#include "ledger/record_index.hpp"
#include "ledger_support.hpp"
#include "util/syscalls.hpp"

using namespace ltest;
using cgspawn::Ledger;
using cgspawn::ResourceKind;
using cgspawn::ResourceRecord;
using cgspawn::ResourceState;
using cgspawn::TaskRecord;
using cgspawn::TaskState;

namespace {

// Each summary as its index line: two listings are equal when these are.
std::vector<std::string> lines_of(const std::vector<cgspawn::TaskSummary>& tasks) {
  std::vector<std::string> out;
  for (const auto& t : tasks) out.push_back(cgspawn::index_lines::written_line(t));
  std::sort(out.begin(), out.end());
  return out;
}

// What summaries() must say: the summary of every record, read one by one.
std::vector<std::string> from_records(const Ledger& ledger) {
  std::vector<cgspawn::TaskSummary> tasks;
  for (const auto& r : ledger.list().tasks) tasks.push_back(cgspawn::summary_of(r));
  return lines_of(tasks);
}

void check_exact(const Ledger& ledger) {
  auto listing = ledger.summaries();
  CHECK(listing.corrupt.empty());
  CHECK(lines_of(listing.tasks) == from_records(ledger));
}

TaskRecord record(const std::string& id) {
  TaskRecord r;
  r.id = id;
  r.backend = "process";
  r.argv = {"/bin/sleep", "100"};
  r.labels = {{"suite", "index"}, {"odd", "a\tb\nc\\d"}};  // every escaped character
  r.state = TaskState::running;
  r.owner = {12345, 678, cgspawn::OwnerKind::supervisor};
  r.resources = {
      {{ResourceKind::cgroup, "/sys/fs/cgroup/x/cgspawn-" + id}, ResourceState::created, {{"a", "b"}}}};
  r.created_unix = 1765000000.123456;
  return r;
}

std::size_t index_lines_count(const StateDir& state) {
  std::ifstream in(state.file(".index"));
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// Runs `change` in a child process with CGSPAWN_CRASH_AT=record-before-index: the child writes
// the record and is killed before its index line. Fails the test unless it was killed there.
template <typename F>
void killed_between_record_and_index(F change) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("CGSPAWN_CRASH_AT", "record-before-index", 1);
    change();
    ::_exit(0);  // not killed: this build has no crash points
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE_MESSAGE(WIFSIGNALED(status),
                  "the writer was not killed at record-before-index (-Dcrash_points=true?)");
  CHECK(WTERMSIG(status) == SIGKILL);
}

std::size_t lines_equal_to(const std::string& path, const std::string& wanted) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line == wanted;
  return n;
}

// Whether some process waits for a flock on the file of inode `ino` (a "->" line of /proc/locks).
bool flock_waiter_on(ino_t ino) {
  std::string needle = ":" + std::to_string(ino) + " ";
  for (int i = 0; i < 500; ++i) {
    std::ifstream locks("/proc/locks");
    for (std::string line; std::getline(locks, line);)
      if (line.find("->") != std::string::npos && line.find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// While it lives, each record replacement (Ledger::update) is made, and then the index is taken
// away (a directory stands at its path): that change's closing line cannot be appended.
class IndexGoneAfterRecord {
 public:
  explicit IndexGoneAfterRecord(std::string index) : saved_(cgspawn::sys::syscalls()) {
    index_ = std::move(index);
    cgspawn::sys::syscalls().rename_record = [](const char* from, const char* to) {
      int rc = cgspawn::sys::real_syscalls().rename_record(from, to);
      if (rc == 0 && std::rename(index_.c_str(), (index_ + ".away").c_str()) == 0)
        ::mkdir(index_.c_str(), 0700);
      return rc;
    };
  }
  ~IndexGoneAfterRecord() {
    cgspawn::sys::syscalls() = saved_;
    ::rmdir(index_.c_str());
    std::rename((index_ + ".away").c_str(), index_.c_str());
  }
  IndexGoneAfterRecord(const IndexGoneAfterRecord&) = delete;
  IndexGoneAfterRecord& operator=(const IndexGoneAfterRecord&) = delete;

 private:
  static inline std::string index_;
  cgspawn::sys::Syscalls saved_;
};

}  // namespace

TEST_CASE("index: summaries() equal the records through create, update, found, remove") {
  StateDir state;
  Ledger ledger(state.path());
  for (int i = 0; i < 20; ++i) ledger.create(record("t" + std::to_string(i)));
  check_exact(ledger);
  CHECK(index_lines_count(state) == 40);  // each change: its open line and its written line

  TaskRecord t3 = record("t3");
  t3.state = TaskState::exited;
  t3.resources[0].state = ResourceState::destroyed;
  t3.bound_to = cgspawn::OwnerRef{999, 1, cgspawn::OwnerKind::library};
  ledger.update(t3);
  ledger.add_found("t4",
                   {{ResourceKind::escaped_process, "4242"}, ResourceState::created, {{"start_time", "9"}}});
  ledger.add_found("t4", {{ResourceKind::escaped_process, "4243"}, ResourceState::created, {}});
  ledger.add_found("t5", {{ResourceKind::cgroup, "/sys/fs/cgroup/x/cgspawn-t5"}, ResourceState::created, {}});
  ledger.update(record("t4"));  // a record rewritten without its found resources: read() merges them
  ledger.remove("t6");
  CHECK_THROWS(ledger.create(record("t7")));  // taken: the change closes without a write
  check_exact(ledger);

  auto summaries = ledger.summaries().tasks;
  auto t4 = std::find_if(summaries.begin(), summaries.end(), [](const auto& s) { return s.id == "t4"; });
  REQUIRE(t4 != summaries.end());
  CHECK(t4->resources.size() == 3);
  CHECK(t4->labels.at("odd") == "a\tb\nc\\d");
  CHECK(std::none_of(summaries.begin(), summaries.end(), [](const auto& s) { return s.id == "t6"; }));

  // The index is what summaries() read: a record changed behind its back (no index lines)
  // does not show, which is why every writer brackets its change.
  std::filesystem::copy_file(state.file("t3/record.json"), state.file("t8/record.json"),
                             std::filesystem::copy_options::overwrite_existing);
  auto stale = ledger.summaries().tasks;
  auto t8 = std::find_if(stale.begin(), stale.end(), [](const auto& s) { return s.id == "t8"; });
  REQUIRE(t8 != stale.end());
  CHECK(t8->id == "t8");
  CHECK(t8->state == TaskState::running);  // from the index; the record now says t3, exited
}

TEST_CASE("index: a closing line that cannot be appended leaves the change open; the update stands") {
  StateDir state;
  Ledger ledger(state.path());
  ledger.create(record("t1"));
  std::size_t before = index_lines_count(state);
  TaskRecord ended = record("t1");
  ended.state = TaskState::exited;
  ended.resources[0].state = ResourceState::destroyed;
  {
    IndexGoneAfterRecord gone(state.file(".index"));
    CHECK_NOTHROW(ledger.update(ended));  // the record's change was made: it does not fail
  }
  REQUIRE(ledger.read("t1"));
  CHECK(ledger.read("t1")->state == TaskState::exited);
  CHECK(index_lines_count(state) == before + 1);  // its open line only
  check_exact(ledger);                            // an open change: the task is read from its record
  ledger.update(record("t1"));                    // a later change closes normally
  check_exact(ledger);
}

TEST_CASE("index: an append after a line cut short (its writer killed mid-write) ends that line first") {
  StateDir state;
  Ledger ledger(state.path());
  ledger.create(record("t1"));
  std::string cut = cgspawn::index_lines::written_line(cgspawn::summary_of(record("t1")));
  {
    std::ofstream index(state.file(".index"), std::ios::app);
    index << cut.substr(0, cut.size() / 2);  // half a line, no newline
  }
  ledger.create(record("t2"));
  std::string open_t2 = cgspawn::index_lines::step_line(cgspawn::index_lines::Step::open, "t2");
  open_t2.pop_back();
  CHECK(lines_equal_to(state.file(".index"), open_t2) == 1);  // on a line of its own
  check_exact(ledger);
}

TEST_CASE("index: a creation time reads back exactly, whatever its digits; a malformed one is refused") {
  cgspawn::TaskSummary s = cgspawn::summary_of(record("t1"));
  for (double created : {1765000000.123456, 1765035601.1234567, 1765035601.0, 0.1, 1e-7, 1e21, -2.5, 0.0,
                         std::nextafter(1765035601.5, 0.0), std::numeric_limits<double>::max(),
                         std::numeric_limits<double>::denorm_min()}) {
    CAPTURE(created);
    s.created_unix = created;
    std::string text = cgspawn::index_lines::written_line(s);
    text.pop_back();  // its newline
    auto line = cgspawn::index_lines::split_line(text);
    REQUIRE(line);
    auto parsed = cgspawn::index_lines::parse_written(line->id, line->fields);
    REQUIRE(parsed);
    CHECK(parsed->created_unix == created);  // bit for bit: the index orders tasks by it
    CHECK(cgspawn::index_lines::created_of(line->fields) == created);
  }
  // The decimal that earlier builds wrote still reads, exactly.
  std::string decimal = "running\tprocess\t1765035601.1234567\t1\t2\tsupervisor\t0\t0\t0\t0";
  CHECK(cgspawn::index_lines::created_of(decimal) == 1765035601.1234567);
  for (const char* bad :
       {"", " 1.5", "+1.5", "1.5x", "0x1.8p", "0x1.8q+1", "0x1p+9999", "1e999", "inf", "nan", "1,5"}) {
    CAPTURE(bad);
    std::string fields = std::string("running\tprocess\t") + bad + "\t1\t2\tsupervisor\t0\t0\t0\t0";
    CHECK_FALSE(cgspawn::index_lines::created_of(fields));
  }
}

TEST_CASE("index: a writer killed between the record and its index line; records without index lines") {
  StateDir state;
  Ledger ledger(state.path());
  ledger.create(record("a"));
  ledger.create(record("b"));
  TaskRecord a = record("a");
  a.state = TaskState::exited;
  killed_between_record_and_index([&] { ledger.update(a); });
  killed_between_record_and_index([&] { ledger.create(record("c")); });
  check_exact(ledger);
  auto listing = ledger.summaries().tasks;
  REQUIRE(listing.size() == 3);
  for (const auto& s : listing)
    if (s.id == "a") CHECK(s.state == TaskState::exited);  // the record's, not the index's older line
  // A compaction carries the open changes: still read from their records.
  for (int i = 0; i < 30; ++i) ledger.update(record("b"));  // lines enough for it to halve the file
  REQUIRE(cgspawn::RecordIndex(state.path()).compact());
  check_exact(ledger);

  // A record written by a cgspawn before the index, or with the index file lost: read.
  std::filesystem::remove(state.file(".index"));
  std::filesystem::create_directory(state.file("d"));
  std::filesystem::copy_file(state.file("b/record.json"), state.file("d/record.json"));
  auto without = ledger.summaries();
  CHECK(without.tasks.size() == 4);
  CHECK(lines_of(without.tasks) == from_records(ledger));
}

TEST_CASE("index: a damaged index and a task directory removed by hand") {
  StateDir state;
  Ledger ledger(state.path());
  for (const auto* id : {"a", "b", "c"}) ledger.create(record(id));
  {
    std::ofstream out(state.file(".index"), std::ios::app);
    out << "w\tb\tnot a summary\nnonsense line\n";
  }
  check_exact(ledger);                   // every task from its record
  CHECK(index_lines_count(state) <= 3);  // ...and the index rewritten without the damage
  check_exact(ledger);
  std::filesystem::remove_all(state.file("c"));
  auto listing = ledger.summaries().tasks;
  CHECK(listing.size() == 2);
  check_exact(ledger);
}

TEST_CASE("index: compactions race with writers in four other processes; nothing is lost") {
  StateDir state;
  Ledger ledger(state.path());
  constexpr int kWriters = 4, kTasksEach = 10, kRounds = 60;
  std::vector<pid_t> writers;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 0;
      try {
        Ledger mine(state.path());
        for (int round = 0; round < kRounds; ++round) {
          for (int i = 0; i < kTasksEach; ++i) {
            TaskRecord r = record("w" + std::to_string(w) + "-" + std::to_string(i));
            r.labels["round"] = std::to_string(round);
            if (round == 0) {
              mine.create(r);
            } else if (round == kRounds - 1 && i % 2 == 0) {
              mine.remove(r.id);
            } else {
              mine.update(r);
              if (round % 10 == 0)
                mine.add_found(
                    r.id, {{ResourceKind::ipc, "shm " + std::to_string(round)}, ResourceState::created, {}});
            }
          }
        }
      } catch (...) {
        code = 1;
      }
      ::_exit(code);
    }
    writers.push_back(pid);
  }
  int compacting_reads = 0;
  std::map<pid_t, int> ended;  // writer -> its wait status
  while (ended.size() < writers.size()) {
    auto listing = ledger.summaries();  // compacts whenever the file has grown past its bound
    CHECK(listing.corrupt.empty());
    ++compacting_reads;
    for (pid_t pid : writers) {
      int status = 0;
      if (!ended.count(pid) && ::waitpid(pid, &status, WNOHANG) == pid) ended[pid] = status;
    }
  }
  for (const auto& [pid, status] : ended) {
    INFO("writer " << pid);
    CHECK(status == 0);
  }
  MESSAGE(compacting_reads << " summaries() while " << kWriters << " processes wrote "
                           << kWriters * kTasksEach * kRounds << " changes");
  auto final = ledger.summaries();
  CHECK(final.tasks.size() == kWriters * kTasksEach / 2);
  for (const auto& t : final.tasks) CHECK(t.labels.at("round") == std::to_string(kRounds - 1));
  check_exact(ledger);
  CHECK(index_lines_count(state) < kWriters * kTasksEach * kRounds);  // it was compacted
}

TEST_CASE("index: a line appended while a compaction replaces the file goes to the new file") {
  StateDir state;
  Ledger ledger(state.path());
  ledger.create(record("a"));
  std::string path = state.file(".index");
  // This test holds the lock a compaction holds while a writer opens the file and waits.
  int old_file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(old_file >= 0);
  REQUIRE(::flock(old_file, LOCK_EX) == 0);
  struct stat st;
  REQUIRE(::fstat(old_file, &st) == 0);
  std::thread writer([&] {
    ledger.add_found("a", {{ResourceKind::ipc, "shm 1"}, ResourceState::created, {}});
  });
  bool waiting = flock_waiter_on(st.st_ino);
  // ...then, as a compaction ends, renames the file's successor over it and lets go.
  std::filesystem::copy_file(path, path + ".next");
  std::filesystem::rename(path + ".next", path);
  ::close(old_file);
  writer.join();
  REQUIRE_MESSAGE(waiting, "the writer never waited for the lock");
  CHECK(lines_equal_to(path, "o\ta") == 2);  // create's, copied, and add_found's, not lost
  check_exact(ledger);
}

TEST_CASE("index: stays bounded in a ledger nobody lists") {
  StateDir state;
  Ledger ledger(state.path());
  ledger.create(record("keep"));
  std::uintmax_t largest = 0, appended = 0, last = 0;
  bool shrank = false;
  for (int i = 0; appended < 2 * cgspawn::RecordIndex::kCompactEvery; ++i) {
    std::string id = "c" + std::to_string(i % 7);
    TaskRecord r = record(id);
    r.labels["pad"] = std::string(2000, 'x');  // a few hundred tasks reach the bound, not thousands
    ledger.create(r);
    ledger.update(r);
    ledger.remove(id);
    auto size = std::filesystem::file_size(state.file(".index"));
    shrank = shrank || size < last;
    appended += size > last ? size - last : size;
    largest = std::max(largest, size);
    last = size;
  }
  CHECK(shrank);  // compacted by the writers alone
  CHECK(largest < cgspawn::RecordIndex::kCompactEvery + 4096);
  check_exact(ledger);
  CHECK(ledger.summaries().tasks.size() == 1);
}

TEST_CASE("index: two overlapping changes of one task, their closing lines in the other order") {
  StateDir state;
  Ledger ledger(state.path());
  TaskRecord a = record("a");
  a.state = TaskState::exited;
  ledger.create(a);
  std::string exited = read_text(state.file("a/record.json")).value_or("");
  ledger.update(record("a"));  // running
  {
    // Change 1 (running) and change 2 (exited) begin; 1 renames its record, then 2 does; 2
    // closes first, then 1: the last written line says running, the record says exited.
    cgspawn::IndexChange first(cgspawn::RecordIndex(state.path()), "a", false);
    cgspawn::IndexChange second(cgspawn::RecordIndex(state.path()), "a", false);
    write_text(state.file("a/record.json.next"), exited, 0600);
    std::filesystem::rename(state.file("a/record.json.next"), state.file("a/record.json"));
    second.written(cgspawn::summary_of(a));
    first.written(cgspawn::summary_of(record("a")));
  }
  check_exact(ledger);  // read from the record: exited
  ledger.create(record("b"));
  for (int i = 0; i < 30; ++i) ledger.update(record("b"));  // lines enough for it to halve the file
  REQUIRE(cgspawn::RecordIndex(state.path()).compact());    // carries "overlapped"
  check_exact(ledger);
  ledger.update(a);  // a change alone: the index vouches again
  auto listing = ledger.summaries().tasks;
  REQUIRE(listing.size() == 2);
  for (const auto& t : listing)
    if (t.id == "a") CHECK(t.state == TaskState::exited);
  check_exact(ledger);
}
