// SPDX-License-Identifier: MIT
#include "util/sys_error.hpp"

#include <cstring>

namespace cgspawn {

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string sys_message(const std::string& what, int err) {
  return what + ": " + errno_text(err);
}

void throw_sys(const std::string& what, int err) {
  throw Error(ErrorKind::system, sys_message(what, err));
}

}  // namespace cgspawn
