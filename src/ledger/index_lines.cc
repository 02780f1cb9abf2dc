// SPDX-License-Identifier: MIT
#include "ledger/index_lines.hpp"

#include <charconv>
#include <optional>
#include <type_traits>
#include <utility>

#include "report/names.hpp"
#include "util/exact_double.hpp"

namespace cgspawn::index_lines {
namespace {

void add_field(std::string& line, std::string_view value) {
  line += '\t';
  for (char c : value) {
    if (c == '\t')
      line += "\\t";
    else if (c == '\n')
      line += "\\n";
    else if (c == '\\')
      line += "\\\\";
    else
      line += c;
  }
}

// Each number in its shortest exact form; a double in C99 hex (util/exact_double.hpp).
template <typename N>
void add_number(std::string& line, N value) {
  line += '\t';
  if constexpr (std::is_floating_point_v<N>) {
    append_exact_double(line, value);
  } else {
    char buf[32];
    line.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
  }
}

std::string unescaped(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    char next = raw[++i];
    out += next == 't' ? '\t' : next == 'n' ? '\n' : next;
  }
  return out;
}

// The fields of a line, one at a time; any read past the end or of a malformed value marks
// the whole line bad.
class Fields {
 public:
  explicit Fields(std::string_view rest) : rest_(rest) {}
  bool bad() const { return bad_; }
  bool at_end() const { return rest_.empty() && done_; }

  std::string_view raw() {
    if (done_) {
      bad_ = true;
      return {};
    }
    auto tab = rest_.find('\t');
    std::string_view field = rest_.substr(0, tab);
    if (tab == std::string_view::npos) {
      rest_ = {};
      done_ = true;
    } else {
      rest_.remove_prefix(tab + 1);
    }
    return field;
  }
  std::string text() { return unescaped(raw()); }

  template <typename N>
  N number() {
    std::string_view field = raw();
    N value{};
    if constexpr (std::is_floating_point_v<N>) {
      auto exact = parse_exact_double(field);
      if (!exact) bad_ = true;
      value = exact.value_or(0);
    } else {
      auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
      if (ec != std::errc() || end != field.data() + field.size()) bad_ = true;
    }
    return value;
  }

  template <typename E>
  E name(std::optional<E> (*parse)(std::string_view)) {
    std::optional<E> value = parse(raw());
    if (!value) bad_ = true;
    return value.value_or(E{});
  }

 private:
  std::string_view rest_;
  bool done_ = false;
  bool bad_ = false;
};

ResourceRecord resource_from(Fields& f) {
  ResourceRecord res;
  res.resource.kind = f.name(parse_resource_kind);
  res.resource.id = f.text();
  res.state = f.name(parse_resource_state);
  return res;
}

void add_resource(std::string& line, const ResourceRecord& res) {
  add_field(line, to_string(res.resource.kind));
  add_field(line, res.resource.id);
  add_field(line, to_string(res.state));
}

}  // namespace

std::string step_line(Step step, std::string_view id) {
  std::string line(1, static_cast<char>(step));
  add_field(line, id);
  return line + '\n';
}

std::string written_line(const TaskSummary& s) {
  std::string line(1, static_cast<char>(Step::written));
  add_field(line, s.id);
  add_field(line, to_string(s.state));
  add_field(line, s.backend);
  add_number(line, s.created_unix);
  add_number(line, s.owner.pid);
  add_number(line, s.owner.start_time);
  add_field(line, to_string(s.owner.kind));
  add_number(line, s.bound_to ? s.bound_to->pid : 0);
  add_number(line, s.bound_to ? s.bound_to->start_time : 0);
  add_number(line, s.labels.size());
  for (const auto& [key, value] : s.labels) {
    add_field(line, key);
    add_field(line, value);
  }
  add_number(line, s.resources.size());
  for (const auto& res : s.resources) add_resource(line, res);
  return line + '\n';
}

std::string found_line(std::string_view id, const ResourceRecord& resource) {
  std::string line(1, static_cast<char>(Step::found));
  add_field(line, id);
  add_resource(line, resource);
  return line + '\n';
}

std::optional<Line> split_line(std::string_view line) {
  if (line.size() < 3 || line[1] != '\t') return std::nullopt;
  Step step = static_cast<Step>(line[0]);
  if (step != Step::open && step != Step::written && step != Step::found && step != Step::removed &&
      step != Step::closed)
    return std::nullopt;
  line.remove_prefix(2);
  auto tab = line.find('\t');
  Line out{step, line.substr(0, tab), tab == std::string_view::npos ? "" : line.substr(tab + 1)};
  bool has_fields = step == Step::written || step == Step::found;
  // The id is not checked here: a reader looks up only the ids of task directories.
  if (has_fields == (tab == std::string_view::npos) || out.id.empty()) return std::nullopt;
  return out;
}

std::optional<TaskSummary> parse_written(std::string_view id, std::string_view fields) {
  Fields f(fields);
  TaskSummary s;
  s.id = std::string(id);
  s.state = f.name(parse_task_state);
  s.backend = f.text();
  s.created_unix = f.number<double>();
  s.owner.pid = f.number<int>();
  s.owner.start_time = f.number<unsigned long long>();
  s.owner.kind = f.name(parse_owner_kind);
  OwnerRef bound{f.number<int>(), f.number<unsigned long long>(), OwnerKind::library};
  if (bound.pid != 0) s.bound_to = bound;
  for (auto n = f.number<std::size_t>(); n > 0 && !f.bad(); --n) {
    std::string key = f.text();
    s.labels[std::move(key)] = f.text();
  }
  for (auto n = f.number<std::size_t>(); n > 0 && !f.bad(); --n) s.resources.push_back(resource_from(f));
  if (f.bad() || !f.at_end()) return std::nullopt;
  return s;
}

std::optional<ResourceRecord> parse_found(std::string_view fields) {
  Fields f(fields);
  ResourceRecord res = resource_from(f);
  if (f.bad() || !f.at_end()) return std::nullopt;
  return res;
}

std::optional<double> created_of(std::string_view fields) {
  Fields f(fields);
  f.raw();  // state
  f.raw();  // backend
  auto created = f.number<double>();
  if (f.bad()) return std::nullopt;
  return created;
}

}  // namespace cgspawn::index_lines
