// SPDX-License-Identifier: MIT
// Errors from system calls, carrying errno and naming what failed:
// "rmdir /sys/fs/cgroup/x: Device or resource busy".
#pragma once

#include <string>

#include "cgspawn/error.hpp"

namespace cgspawn {

std::string errno_text(int err);

// "<what>: <strerror(err)>"
std::string sys_message(const std::string& what, int err);

[[noreturn]] void throw_sys(const std::string& what, int err);

}  // namespace cgspawn
