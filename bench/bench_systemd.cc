// SPDX-License-Identifier: MIT
// The systemd backend through the library, in the guest: N times spawn /bin/true in its scope
// and wait() for the verified destroy (unit gone, cgroup removed). Prints ms per task. Used by
// bench/bench_systemd.sh next to `systemd-run --scope /bin/true`; no cgspawn exec is counted,
// as no extra exec is the point of the comparison.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cgspawn/cgspawn.hpp"

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20;
  cgspawn::BackendOptions options;
  options.backend = "systemd";
  auto spawner = cgspawn::make_spawner(options);
  cgspawn::TaskSpec spec;
  spec.argv = {"/bin/true"};
  auto once = [&] {
    cgspawn::Result r = spawner->spawn(spec)->wait();
    if (!r.cleanup.complete() || r.exit.code != 0) {
      std::fprintf(stderr, "cleanup incomplete or /bin/true failed\n");
      std::exit(1);
    }
  };
  once();  // warm-up
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) once();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / n;
  std::printf("%.1f\n", ms);
}
