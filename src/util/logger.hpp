// SPDX-License-Identifier: MIT
// cgspawn's log: spdlog, on stderr. spdlog's default logger writes to stdout, which for `run`
// is the task's own output (and for a program that links the library, that program's), so a
// warning would land in the data it carries. The level is spdlog's global one
// (spdlog::set_level: `--log-level`, $CGSPAWN_LOG).
#pragma once

#include <spdlog/logger.h>

namespace cgspawn {

spdlog::logger& logger();

}  // namespace cgspawn
