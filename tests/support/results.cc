// SPDX-License-Identifier: MIT
#include "results.hpp"

#include <doctest/doctest.h>

#include "cli.hpp"

namespace cgtest {

nlohmann::json run_json(const std::vector<std::string>& args, TempDir& tmp, int expected_exit) {
  std::string result = tmp.file("result.json");
  std::vector<std::string> all = {"run", "-q", "--result", result};
  all.insert(all.end(), args.begin(), args.end());
  RunResult r = run_cgspawn(all, std::chrono::seconds(120));
  CAPTURE(r.err);
  CHECK(r.exit_code == expected_exit);
  return nlohmann::json::parse(read_text(result).value_or("{}"));
}

std::vector<nlohmann::json> rows_of(const nlohmann::json& result, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& row : result.at("cleanup").at("resources"))
    if (row.at("kind") == kind) out.push_back(row);
  return out;
}

}  // namespace cgtest
