// SPDX-License-Identifier: MIT
// Ledger::summaries(): every task's summary from the index, each task with a change still
// open (or no line in the index: written by a cgspawn before the index) from its record.
#include <algorithm>

#include "cgspawn/ledger.hpp"
#include "ledger/index_lines.hpp"
#include "ledger/record_index.hpp"
#include "ledger/task_dirs.hpp"

namespace cgspawn {
namespace {

// Lines of tasks gone, changes superseded: a compaction once the file holds this many times
// more lines than a compaction would keep, plus a floor, so that a small ledger is not
// rewritten at every change.
constexpr std::size_t kLinesPerTask = 2;
constexpr std::size_t kLinesFloor = 256;

// One task to show: by its index lines, or (lines null) the `read`th summary read from records.
struct Entry {
  double created = 0;
  std::string_view id;
  const RecordIndex::TaskLines* lines = nullptr;
  std::size_t read = 0;
};

void compact_if_due(const RecordIndex& index, const RecordIndex::Snapshot& snapshot) {
  if (!snapshot.malformed && snapshot.lines <= kLinesPerTask * snapshot.needed + kLinesFloor) return;
  try {
    index.compact();
  } catch (const Error&) {  // the listing stands; the next one tries again
  }
}

}  // namespace

TaskSummary summary_of(const TaskRecord& r) {
  TaskSummary s{r.id, r.backend, r.labels, r.state, r.owner, r.bound_to, r.resources, r.created_unix};
  for (auto& res : s.resources) res.attributes.clear();
  return s;
}

std::vector<std::string> Ledger::for_each_summary(const std::function<void(const TaskSummary&)>& visit,
                                                  std::vector<std::string>* without_record) const {
  RecordIndex index(dir_);
  // The index first: a task it does not know yet is then in the directory listing and read
  // from its record (one removed meanwhile is simply not listed).
  RecordIndex::Snapshot snapshot = index.read();
  std::vector<std::string> ids = task_dirs(dir_);
  std::vector<std::string> corrupt;
  auto read_summary = [&](const std::string& id) -> std::optional<TaskSummary> {
    try {
      if (auto record = read(id)) return summary_of(*record);
      if (without_record) without_record->push_back(id);
    } catch (const Error& e) {
      corrupt.push_back(e.what());
    }
    return std::nullopt;
  };
  // Ordered by the creation time alone; each summary is parsed when its turn comes.
  std::vector<Entry> entries;
  std::vector<TaskSummary> read_ones;
  entries.reserve(ids.size());
  for (const auto& id : ids) {
    auto lines = snapshot.tasks.find(id);
    if (!snapshot.malformed && lines != snapshot.tasks.end() && lines->second.vouched()) {
      if (auto created = index_lines::created_of(lines->second.written)) {
        entries.push_back({*created, id, &lines->second, 0});
        continue;
      }
    }
    if (auto summary = read_summary(id)) {
      entries.push_back({summary->created_unix, id, nullptr, read_ones.size()});
      read_ones.push_back(std::move(*summary));
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.created < b.created; });
  for (auto& e : entries) {
    if (!e.lines) {
      visit(read_ones[e.read]);
    } else if (auto summary = summary_from(e.id, *e.lines)) {
      visit(*summary);
    } else if (auto summary_read = read_summary(std::string(e.id))) {  // a damaged line
      visit(*summary_read);
    }
  }
  compact_if_due(index, snapshot);
  return corrupt;
}

Ledger::SummaryListing Ledger::summaries() const {
  SummaryListing listing;
  std::vector<std::string> without_record;
  listing.corrupt =
      for_each_summary([&](const TaskSummary& s) { listing.tasks.push_back(s); }, &without_record);
  for (const auto& id : without_record)
    if (abandoned_reservation(task_dir(id))) listing.abandoned.push_back(id);
  return listing;
}

}  // namespace cgspawn
