#include "backends/finish_on_drop.hpp"

#include <spdlog/spdlog.h>

namespace cgspawn {

void finish_on_drop(Task& task) noexcept {
  try {
    DestroyOptions now;
    now.grace = Duration::zero();
    task.finish(now, ExitReason::destroyed);
  } catch (const std::exception& e) {
    spdlog::error("task {}: destroy on drop failed: {}", task.id(), e.what());
  } catch (...) {
    spdlog::error("task {}: destroy on drop failed", task.id());
  }
}

}  // namespace cgspawn
