// SPDX-License-Identifier: MIT
#include "ledger/record_index.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "cgspawn/parse.hpp"
#include "ledger/index_lines.hpp"
#include "util/sys_error.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

using index_lines::Step;

// The open file's size, or nullopt when it is no longer the file at `path` (a compaction
// renamed another over it).
std::optional<off_t> size_if_current(int fd, const std::string& path) {
  struct stat open_file, at_path;
  if (::fstat(fd, &open_file) != 0 || ::stat(path.c_str(), &at_path) != 0) return std::nullopt;
  if (open_file.st_ino != at_path.st_ino || open_file.st_dev != at_path.st_dev) return std::nullopt;
  return open_file.st_size;
}

void take(int fd, int operation, const std::string& path) {
  while (::flock(fd, operation) != 0)
    if (errno != EINTR) throw_sys("lock " + path, errno);
}

void apply(RecordIndex::TaskLines& task, const index_lines::Line& line) {
  switch (line.step) {
    case Step::open:
      task.overlapped = task.open > 0;
      ++task.open;
      return;
    case Step::written:
      task.written = line.fields;
      break;
    case Step::found:
      task.found.push_back(line.fields);
      break;
    case Step::removed:
      task.written = {};
      task.found.clear();
      break;
    case Step::closed:
      break;
  }
  task.open = std::max(0, task.open - 1);  // a compaction may have dropped the open line
}

RecordIndex::Snapshot parse(std::unique_ptr<MappedFile> file) {
  RecordIndex::Snapshot s;
  s.file = std::move(file);
  std::string_view rest = s.file->text();
  s.tasks.reserve(rest.size() / 128);  // about a line per task, a little over 128 bytes each
  for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
    std::string_view raw = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    ++s.lines;
    if (raw.empty()) continue;  // an appender ended a line cut short before its own
    if (auto line = index_lines::split_line(raw))
      apply(s.tasks[line->id], *line);
    else
      s.malformed = true;
  }
  for (const auto& [id, task] : s.tasks) s.needed += task.needed_lines();
  return s;
}

// What a read needs of one task: its last written line, its found lines, then as many open
// lines as changes are open (after the others, which would close them).
void keep(std::string& out, std::string_view id, const RecordIndex::TaskLines& task) {
  auto line = [&](char step, std::string_view fields) {
    out += step;
    out += '\t';
    out += id;
    if (!fields.empty()) (out += '\t') += fields;
    out += '\n';
  };
  if (!task.written.empty()) line(static_cast<char>(Step::written), task.written);
  for (auto found : task.found) line(static_cast<char>(Step::found), found);
  // Overlapped: two open lines then two closing ones say so, whatever is still open.
  int opens = task.open + (task.overlapped ? 2 : 0);
  for (int i = 0; i < opens; ++i) line(static_cast<char>(Step::open), {});
  for (int i = task.open; i < opens; ++i) line(static_cast<char>(Step::closed), {});
}

}  // namespace

void RecordIndex::append(const std::string& lines, bool durable) const {
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::optional<off_t> size;
    {
      UniqueFd fd(::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
      if (!fd.valid()) throw_sys("open " + path_, errno);
      take(fd.get(), LOCK_SH, path_);
      size = size_if_current(fd.get(), path_);
      if (!size) continue;  // compacted meanwhile: append to the new file
      // A writer killed in the middle of a line (or out of space) left it cut short: end it,
      // so that this line is not read as part of it.
      char last = '\n';
      bool cut = *size > 0 && ::pread(fd.get(), &last, 1, *size - 1) == 1 && last != '\n';
      std::string text = cut ? "\n" + lines : lines;
      if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw_sys("append to " + path_, errno);
      if (durable && ::fsync(fd.get()) != 0) throw_sys("fsync " + path_, errno);
    }  // closed: the shared lock must be gone before compact() asks for the exclusive one
    if (*size / kCompactEvery != (*size + static_cast<off_t>(lines.size())) / kCompactEvery) {
      try {
        compact();
      } catch (...) {  // the append stands; a later one or a listing compacts (never throw from here:
      }                // it runs in ~IndexChange too)
    }
    return;
  }
  throw Error(ErrorKind::system, "append to " + path_ + ": replaced 100 times in a row");
}

RecordIndex::Snapshot RecordIndex::read() const {
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() && errno != ENOENT) throw_sys("open " + path_, errno);
  return parse(fd.valid() ? std::make_unique<MappedFile>(fd.get(), path_.c_str())
                          : std::make_unique<MappedFile>());
}

bool RecordIndex::compact() const {
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 || !size_if_current(fd.get(), path_))
    return false;
  Snapshot now = parse(std::make_unique<MappedFile>(fd.get(), path_.c_str()));
  std::string text;
  for (const auto& [id, task] : now.tasks) {
    std::string name(id);
    if (valid_task_id(name) && ::access((dir_ + "/" + name).c_str(), F_OK) == 0) keep(text, id, task);
  }
  if (!now.malformed && text.size() * 2 > now.file->text().size()) return false;
  std::string temp = path_ + ".tmp." + std::to_string(::getpid());
  UniqueFd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid() || ::write(out.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::rename(temp.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    throw_sys("replace " + path_, err);
  }
  return true;  // the lock goes with the old file, which appenders now leave alone
}

IndexChange::IndexChange(RecordIndex index, std::string id, bool durable)
    : index_(std::move(index)), id_(std::move(id)) {
  // Durable: after a reboot the open line must be there if the record's change is.
  index_.append(index_lines::step_line(Step::open, id_), durable);
}

IndexChange::~IndexChange() {
  if (ended_) return;
  try {
    index_.append(index_lines::step_line(Step::closed, id_));
  } catch (...) {  // left open: the task is read from its record, which is exact
  }
}

// The record's change is made: a closing line that cannot be appended leaves the change open
// (the task is then read from its record), and must not fail what succeeded.
void IndexChange::end(const std::string& line) {
  ended_ = true;
  try {
    index_.append(line);
  } catch (...) {
  }
}

void IndexChange::written(const TaskSummary& summary) {
  end(index_lines::written_line(summary));
}

void IndexChange::found(const ResourceRecord& resource) {
  end(index_lines::found_line(id_, resource));
}

void IndexChange::removed() {
  end(index_lines::step_line(Step::removed, id_));
}

std::optional<TaskSummary> summary_from(std::string_view id, const RecordIndex::TaskLines& lines) {
  auto summary = index_lines::parse_written(id, lines.written);
  if (!summary) return std::nullopt;
  for (auto fields : lines.found) {
    auto found = index_lines::parse_found(fields);
    if (!found) return std::nullopt;
    bool known =
        std::any_of(summary->resources.begin(), summary->resources.end(), [&](const ResourceRecord& r) {
          return r.resource.kind == found->resource.kind && r.resource.id == found->resource.id;
        });
    if (!known) summary->resources.push_back(std::move(*found));
  }
  return summary;
}

}  // namespace cgspawn
