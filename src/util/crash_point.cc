// SPDX-License-Identifier: MIT
#include "util/crash_point.hpp"

#ifdef CGSPAWN_CRASH_POINTS
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace cgspawn {

void crash_point(const char* name) {
  const char* at = std::getenv("CGSPAWN_CRASH_AT");
  if (!at) return;
  if (std::strcmp(at, name) == 0) ::kill(::getpid(), SIGKILL);
  if (std::strncmp(at, "stop:", 5) == 0 && std::strcmp(at + 5, name) == 0) ::kill(::getpid(), SIGSTOP);
}

}  // namespace cgspawn
#endif
