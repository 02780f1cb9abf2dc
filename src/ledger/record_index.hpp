// SPDX-License-Identifier: MIT
// The ledger's index, DIR/.index: every change of every record, appended as lines
// (ledger/index_lines.hpp) by the process that makes it, so that the summaries of all tasks
// are one file's read instead of one read per record (`list` over 10,000 records).
//
// Appends take a shared flock on the file and check it is still the one at the path;
// compact() takes it exclusively, reads it, and renames a shorter file over it, so no line is
// ever appended to a file that was already read for replacing.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cgspawn/ledger.hpp"
#include "util/mapped_file.hpp"

namespace cgspawn {

class RecordIndex {
 public:
  explicit RecordIndex(const std::string& ledger_dir) : dir_(ledger_dir), path_(ledger_dir + "/.index") {}

  // Appends `lines` in one write(2). `durable`: fsynced before it returns. The append that
  // takes the file past a multiple of kCompactEvery compacts it, so that it stays bounded in
  // a ledger nobody lists.
  void append(const std::string& lines, bool durable = false) const;
  static constexpr off_t kCompactEvery = 1 << 20;

  // What the index says of one task.
  struct TaskLines {
    int open = 0;  // changes begun and not ended
    // Two changes overlapped since the last that began alone: their lines may be in another
    // order than their records' renames, so the last written line may not be the record's.
    // A change that begins alone clears it (every earlier change had renamed and closed).
    bool overlapped = false;
    std::string_view written;             // the fields of the last written line
    std::vector<std::string_view> found;  // the fields of every found line since
    bool vouched() const { return open == 0 && !overlapped; }
    std::size_t needed_lines() const {
      return (written.empty() ? 0 : 1) + found.size() + open + 2 * overlapped;
    }
  };
  struct Snapshot {
    std::unique_ptr<MappedFile> file;  // the file as read (the views point into it)
    std::unordered_map<std::string_view, TaskLines> tasks;
    std::size_t lines = 0;
    std::size_t needed = 0;  // the lines a compaction would keep at most
    bool malformed = false;  // a complete line not of the format (a damaged file)
  };
  // The file as it is now: its complete lines (a line being appended is not yet one).
  Snapshot read() const;

  // Rewrites the file with what a read still needs of each task whose directory exists
  // (written and found lines, open changes), dropping every older line. false, doing
  // nothing, when another process is compacting or appending, or when the file would not
  // shrink by half (so that a file of many live tasks is not rewritten at every append).
  bool compact() const;

 private:
  std::string dir_;
  std::string path_;
};

// A change of one task's record, bracketed (ledger/index_lines.hpp): the open line now, the
// closing line from one of the three calls, or a "closed" line when it is dropped without.
class IndexChange {
 public:
  IndexChange(RecordIndex index, std::string id, bool durable);
  IndexChange(const IndexChange&) = delete;
  IndexChange& operator=(const IndexChange&) = delete;
  ~IndexChange();
  void written(const TaskSummary& summary);
  void found(const ResourceRecord& resource);
  void removed();

 private:
  void end(const std::string& line);
  RecordIndex index_;
  std::string id_;
  bool ended_ = false;
};

// The summary a task's lines say (its written line, with the found resources merged as
// Ledger::read() merges its found file); nullopt when the lines are malformed.
std::optional<TaskSummary> summary_from(std::string_view id, const RecordIndex::TaskLines& lines);

}  // namespace cgspawn
