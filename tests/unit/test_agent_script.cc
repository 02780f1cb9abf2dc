// The agent the library sends is src/backends/remote/agent.sh byte for byte: the file is what
// shellcheck checks and what a reader reviews, so the build must not change a byte of it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "backends/remote/agent_script.hpp"

TEST_CASE("agent_script() is agent.sh, byte for byte") {
  const char* path = std::getenv("CGSPAWN_AGENT_SH");  // set by tests/meson.build
  REQUIRE_MESSAGE(path != nullptr, "CGSPAWN_AGENT_SH is not set: run the unit tests with meson test");
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  const std::string file{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(file.size() == cgspawn::remote::agent_script().size());
  CHECK(file == cgspawn::remote::agent_script());
}
