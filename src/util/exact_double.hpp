// SPDX-License-Identifier: MIT
// A double as exact text and back, without libm: C99 hex ("0x1.a4d139447e6b7p+30", written by
// fmt, locale-independent), whose bits read back without a rounding step. Not std::to_chars and
// std::from_chars: libstdc++'s floating-point ones need libm (fesetround), which every cgspawn
// process and every supervisor would then map and relocate at its start (0.3 MiB of a
// supervisor's RSS) for the ledger index's creation times alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cgspawn {

void append_exact_double(std::string& out, double value);

// The form append_exact_double writes, directly; any other exact text (the decimal that earlier
// builds wrote to the index, a subnormal's hex) by strtod_l in the "C" locale. nullopt for what
// strtod would take beyond that (spaces, a plus sign, "inf", "nan", an overflow).
std::optional<double> parse_exact_double(std::string_view text);

}  // namespace cgspawn
