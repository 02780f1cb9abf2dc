// SPDX-License-Identifier: MIT
// Ledger writes that fail, through the seam (util/syscalls.hpp): for the checks that a spawn
// whose record cannot be updated throws and leaves nothing behind, in every backend.
#pragma once

#include <string>
#include <vector>

#include "util/syscalls.hpp"

namespace cgtest {

// While it lives, every replacement of a record.json (Ledger::update) from the `nth` on fails
// with EIO; creating a record (Ledger::create) and removing one still work.
class FailingRecordUpdates {
 public:
  explicit FailingRecordUpdates(int nth);
  ~FailingRecordUpdates();
  FailingRecordUpdates(const FailingRecordUpdates&) = delete;
  FailingRecordUpdates& operator=(const FailingRecordUpdates&) = delete;

  int updates() const;  // how many updates were attempted
  int failed() const;   // how many of them failed

 private:
  cgspawn::sys::Syscalls saved_;
};

// Live processes (not zombies) whose command line contains `needle`, as "pid: cmdline".
std::vector<std::string> processes_running(const std::string& needle);

}  // namespace cgtest
