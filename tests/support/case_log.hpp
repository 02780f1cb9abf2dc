// SPDX-License-Identifier: MIT
// Which test cases ran, and which were skipped and why: every test binary's main registers
// the listener below (CGTEST_CASE_LOG), which appends to $CGSPAWN_CASE_LOG (when set) one line
// per case: "RAN <place> <binary> <case>" or "SKIP <place> <binary> <case> <reason>", <place>
// being $CGSPAWN_PLACE (host, or guest-bookworm, ...). tests/check-coverage.sh fails CI unless
// every case of every binary ran, not skipped, in at least one place.
#pragma once

#include <doctest/doctest.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace cgtest {

namespace case_log_detail {

inline std::string& current_case() {
  static std::string name;
  return name;
}

inline std::string& skip_reason() {
  static std::string reason;
  return reason;
}

inline void append(const std::string& line) {
  const char* path = std::getenv("CGSPAWN_CASE_LOG");
  if (!path || !*path) return;
  int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string text = line + "\n";
  ssize_t ignored = ::write(fd, text.data(), text.size());  // one write: lines of parallel tests do not mix
  (void)ignored;
  ::close(fd);
}

inline std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\t') c = ' ';
  return text;
}

inline std::string where() {
  const char* place = std::getenv("CGSPAWN_PLACE");
  return std::string(place && *place ? place : "host") + "\t" + program_invocation_short_name;
}

}  // namespace case_log_detail

// A case that cannot apply on this host: says so on stderr, with its reason, and is recorded
// as skipped (not as run). Call it, then return from the test case.
inline void skip_case(const std::string& reason) {
  case_log_detail::skip_reason() = case_log_detail::one_line(reason);
  std::cerr << "SKIPPED: " << case_log_detail::current_case() << ": " << reason << "\n";
}

struct CaseLog : doctest::IReporter {
  explicit CaseLog(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& data) override {
    // What the cases before this one printed is written out now: where the output is a file
    // that someone else reads live (the guest's), a hang in this case does not keep it.
    std::cout.flush();
    std::fflush(stdout);
    case_log_detail::current_case() = data.m_name;
    case_log_detail::skip_reason().clear();
    ++cases_run();
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {
    using namespace case_log_detail;
    if (skip_reason().empty())
      append("RAN\t" + where() + "\t" + one_line(current_case()));
    else
      append("SKIP\t" + where() + "\t" + one_line(current_case()) + "\t" + skip_reason());
  }
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

  // How many cases this run started: a filter that matches none must fail, not pass.
  static int& cases_run() {
    static int n = 0;
    return n;
  }
};

// True when the command line only asks doctest to list something: a main then runs doctest
// at once, without the checks of its environment (tests/check-coverage.sh lists every case of
// every binary on the host, the guest's included).
inline bool listing_only(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--list", 6) == 0 || std::strncmp(argv[i], "-l", 2) == 0) return true;
  return false;
}

}  // namespace cgtest

// In each test binary's main file, once.
#define CGTEST_CASE_LOG() DOCTEST_REGISTER_LISTENER("case-log", 1, cgtest::CaseLog)
