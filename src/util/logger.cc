// SPDX-License-Identifier: MIT
#include "util/logger.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace cgspawn {

spdlog::logger& logger() {
  // Registered with spdlog, so that spdlog::set_level reaches it, before or after its making.
  static std::shared_ptr<spdlog::logger> log = spdlog::stderr_color_mt("cgspawn");
  return *log;
}

}  // namespace cgspawn
