// SPDX-License-Identifier: MIT
#include "ledger/index_lines.hpp"

#include <fmt/format.h>
#include <locale.h>

#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "report/names.hpp"

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

// Each number in its shortest exact form; a double in C99 hex ("0x1.a4d139447e6b7p+30", through
// fmt, locale-independent), whose bits read back without rounding (exact_hex_double). Not
// std::to_chars and std::from_chars: libstdc++'s floating-point ones need libm (fesetround),
// which every cgspawn process and every supervisor would then map and relocate at its start
// (0.3 MiB of a supervisor's RSS) for the creation time alone.
template <typename N>
void add_number(std::string& line, N value) {
  char buf[32];
  char* end = buf;
  if constexpr (std::is_floating_point_v<N>)
    end = fmt::format_to_n(buf, sizeof buf, "{:a}", value).out;
  else
    end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  line += '\t';
  line.append(buf, end);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// A normal double as add_number writes it, "[-]0x1[.H...]p(+|-)E" with at most 13 hex digits
// after the point: its bits put together, exact by construction. nullopt for any other form.
std::optional<double> exact_hex_double(std::string_view t) {
  bool negative = !t.empty() && t[0] == '-';
  if (negative) t.remove_prefix(1);
  if (t.substr(0, 3) != "0x1") return std::nullopt;
  t.remove_prefix(3);
  std::uint64_t fraction = 0;
  int digits = 0;
  if (!t.empty() && t[0] == '.') {
    for (t.remove_prefix(1); !t.empty() && hex_digit(t[0]) >= 0; t.remove_prefix(1), ++digits) {
      if (digits == 13) return std::nullopt;
      fraction = fraction << 4 | static_cast<std::uint64_t>(hex_digit(t[0]));
    }
    if (digits == 0) return std::nullopt;
  }
  if (t.size() < 3 || t[0] != 'p' || (t[1] != '+' && t[1] != '-')) return std::nullopt;
  int exponent = 0;
  auto [end, ec] = std::from_chars(t.data() + 2, t.data() + t.size(), exponent);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  if (t[1] == '-') exponent = -exponent;
  if (exponent < -1022 || exponent > 1023) return std::nullopt;
  std::uint64_t bits = static_cast<std::uint64_t>(negative) << 63 |
                       static_cast<std::uint64_t>(exponent + 1023) << 52 | fraction << (4 * (13 - digits));
  return std::bit_cast<double>(bits);
}

// A double: add_number's form directly; any other exact text (the decimal that earlier builds
// wrote, a subnormal's hex) by strtod_l in the "C" locale, refusing what it would take beyond
// that (spaces, a plus sign, "inf", "nan").
bool parse_double(std::string_view field, double& value) {
  if (auto exact = exact_hex_double(field)) {
    value = *exact;
    return true;
  }
  static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", nullptr);
  char text[40];
  if (!c_locale || field.empty() || field.size() >= sizeof text) return false;
  if (!std::isdigit(static_cast<unsigned char>(field[0])) && field[0] != '-') return false;
  if (field.find_first_not_of("0123456789abcdefABCDEFxXpP.+-") != std::string_view::npos) return false;
  field.copy(text, field.size());
  text[field.size()] = '\0';
  char* end = nullptr;
  value = ::strtod_l(text, &end, c_locale);
  return end == text + field.size() && std::isfinite(value);  // "0x1p+9999" is HUGE_VAL
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
      if (!parse_double(field, value)) bad_ = true;
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
