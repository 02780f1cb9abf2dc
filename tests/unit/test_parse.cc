// SPDX-License-Identifier: MIT
// The words users write: durations, sizes, CPU percentages, task ids.
#include <doctest/doctest.h>

#include <set>

#include "cgspawn/parse.hpp"

using namespace cgspawn;
using namespace std::chrono_literals;

TEST_CASE("parse_duration: units, fractions, bare seconds") {
  CHECK(parse_duration("500ms") == Duration(500ms));
  CHECK(parse_duration("30s") == Duration(30s));
  CHECK(parse_duration("1.5m") == Duration(90s));
  CHECK(parse_duration("2min") == Duration(120s));
  CHECK(parse_duration("2h") == Duration(7200s));
  CHECK(parse_duration("250us") == Duration(250us));
  CHECK(parse_duration("10") == Duration(10s));
  CHECK(parse_duration("0.25") == Duration(250ms));
  CHECK(parse_duration(".5s") == Duration(500ms));
  CHECK(parse_duration("0") == Duration(0));
  CHECK(parse_duration("0s") == Duration(0));
}

TEST_CASE("parse_duration: malformed") {
  for (const char* bad : {"", "s", "ms", "abc", "-1s", "-5", "+5s", "5x", "5 s", " 5s", "5s ", "1.5.3s", "5S",
                          "inf", "nan", "1e30h", "5ss", "m5"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("parse_size: powers of 1024") {
  CHECK(parse_size("512") == 512u);
  CHECK(parse_size("1") == 1u);
  CHECK(parse_size("64K") == 64u * 1024);
  CHECK(parse_size("512M") == 512ull * 1024 * 1024);
  CHECK(parse_size("1.5G") == 1536ull * 1024 * 1024);
  CHECK(parse_size("2G") == 2ull * 1024 * 1024 * 1024);
  CHECK(parse_size("1T") == 1024ull * 1024 * 1024 * 1024);
}

TEST_CASE("parse_size: malformed or out of range") {
  for (const char* bad : {"", "0", "0K", "0.5", "-1", "-1M", "12Q", "M", "1.5.5M", " 1M", "1M ", "1MB",
                          "1e30T", "abc", "nan"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_size(bad).has_value());
  }
}

TEST_CASE("parse_percent: percent of one CPU, 1..100000") {
  CHECK(parse_percent("150") == 150u);
  CHECK(parse_percent("150%") == 150u);
  CHECK(parse_percent("1") == 1u);
  CHECK(parse_percent("100") == 100u);
  CHECK(parse_percent("100000") == 100000u);
  for (const char* bad :
       {"", "%", "0", "0%", "100001", "1234567", "abc", "1.5", "-5", "+5", "50%%", " 50", "5 0"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_percent(bad).has_value());
  }
}

TEST_CASE("valid_task_id: never a path") {
  CHECK(valid_task_id("a"));
  CHECK(valid_task_id("A1._-x"));
  CHECK(valid_task_id("0abc"));
  CHECK(valid_task_id(std::string(64, 'x')));
  CHECK_FALSE(valid_task_id(std::string(65, 'x')));
  for (const char* bad : {"", "-a", ".a", "_a", "..", ".", "a/b", "../x", "a b", "a\nb", "a:b", "a*", "ä"}) {
    CAPTURE(bad);
    CHECK_FALSE(valid_task_id(bad));
  }
}

TEST_CASE("make_task_id: 12 hex digits, valid, different each time") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = make_task_id();
    CHECK(id.size() == 12);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(valid_task_id(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("format_seconds") {
  CHECK(format_seconds(0) == "0.000s");
  CHECK(format_seconds(1.23456) == "1.235s");
  CHECK(format_seconds(12.34) == "12.3s");
}
