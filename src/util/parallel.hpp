// SPDX-License-Identifier: MIT
// Running independent jobs side by side: a thousand destroys spend their time waiting (for a
// supervisor, a cgroup to empty), not computing, so they overlap well even on two CPUs.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace cgspawn {

// Calls job(i) for every i in [0, n) on up to `workers` threads (the caller's own among them)
// and returns when all are done. The first exception a job throws is rethrown then; the other
// jobs still run.
template <typename Job>
void parallel_for(std::size_t n, std::size_t workers, const Job& job) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr first;
  std::mutex mutex;
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        job(i);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first) first = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < std::min(workers, n); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace cgspawn
