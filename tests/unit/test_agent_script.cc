// SPDX-License-Identifier: MIT
// The agent the library sends is src/backends/remote/agent.sh byte for byte, from its first
// line of code on (its leading comment block is not sent): the file is what shellcheck checks
// and what a reader reviews, so the build must not change a byte of the code.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "backends/remote/agent_script.hpp"

TEST_CASE("agent_script() is agent.sh from its first line of code on, byte for byte") {
  const char* path = std::getenv("CGSPAWN_AGENT_SH");  // set by tests/meson.build
  REQUIRE_MESSAGE(path != nullptr, "CGSPAWN_AGENT_SH is not set: run the unit tests with meson test");
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::string file{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  size_t code = 0;  // past the leading comments and blank lines
  while (code < file.size() && (file[code] == '#' || file[code] == '\n')) code = file.find('\n', code) + 1;
  REQUIRE(code > 0);
  file.erase(0, code);
  REQUIRE(file.rfind("set -u\n", 0) == 0);
  CHECK(file.size() == cgspawn::remote::agent_script().size());
  CHECK(file == cgspawn::remote::agent_script());
}
