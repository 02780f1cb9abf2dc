// SPDX-License-Identifier: MIT
#include "backends/orphans.hpp"

#include <unistd.h>

#include "cgspawn/parse.hpp"

namespace cgspawn {

bool has_record(const Ledger& ledger, const std::string& id) {
  if (!valid_task_id(id)) return true;
  return ::access((ledger.task_dir(id) + "/record.json").c_str(), F_OK) == 0;
}

}  // namespace cgspawn
