// The end of a task's main process, read from its pidfd without reaping it (WNOWAIT): the
// process stays a zombie until the task is finished, so its pid (and process group) cannot be
// reused while destroy may still signal them.
#pragma once

#include <chrono>
#include <optional>

#include "cgspawn/result.hpp"

namespace cgspawn {

// nullopt while it runs (block = false) or when the pidfd cannot be waited on.
std::optional<ExitStatus> peek_main_exit(int pidfd, bool block);

// After destroy: waits up to `wait` for the main process to end, reaps it, and returns its
// status (`known`, if it was read before; nullopt if it survived even SIGKILL).
std::optional<ExitStatus> reap_main_exit(int pidfd, std::optional<ExitStatus> known, std::chrono::milliseconds wait);

}  // namespace cgspawn
