// SPDX-License-Identifier: MIT
#include "util/exact_double.hpp"

#include <fmt/format.h>
#include <locale.h>

#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>

namespace cgspawn {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// A normal double as append_exact_double writes it, "[-]0x1[.H...]p(+|-)E" with at most 13
// hex digits after the point: its bits put together, exact by construction. nullopt for any
// other form.
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

}  // namespace

void append_exact_double(std::string& out, double value) {
  fmt::format_to(std::back_inserter(out), "{:a}", value);
}

std::optional<double> parse_exact_double(std::string_view field) {
  if (auto exact = exact_hex_double(field)) return exact;
  static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", nullptr);
  char text[40];
  if (!c_locale || field.empty() || field.size() >= sizeof text) return std::nullopt;
  if (!std::isdigit(static_cast<unsigned char>(field[0])) && field[0] != '-') return std::nullopt;
  if (field.find_first_not_of("0123456789abcdefABCDEFxXpP.+-") != std::string_view::npos) return std::nullopt;
  field.copy(text, field.size());
  text[field.size()] = '\0';
  char* end = nullptr;
  double value = ::strtod_l(text, &end, c_locale);
  if (end != text + field.size() || !std::isfinite(value)) return std::nullopt;  // "0x1p+9999": HUGE_VAL
  return value;
}

}  // namespace cgspawn
