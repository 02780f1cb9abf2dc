// SPDX-License-Identifier: MIT
#include "util/crash_point.hpp"

#ifdef CGSPAWN_CRASH_POINTS
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace cgspawn {

void crash_point(const char* name) {
  const char* at = std::getenv("CGSPAWN_CRASH_AT");
  if (!at) return;
  std::string_view rest(at);
  while (!rest.empty()) {
    std::string_view item = rest.substr(0, rest.find(','));
    rest.remove_prefix(std::min(rest.size(), item.size() + 1));
    if (item == name) ::kill(::getpid(), SIGKILL);
    if (item.substr(0, 5) == "stop:" && item.substr(5) == name) ::kill(::getpid(), SIGSTOP);
  }
}

}  // namespace cgspawn
#endif
