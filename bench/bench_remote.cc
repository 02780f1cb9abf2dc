// SPDX-License-Identifier: MIT
// The remote backend through the library: N times spawn /bin/true on HOST and wait() for the
// verified destroy (the second session's KILLED), over one multiplexed connection that a
// holder task keeps open. Prints ms per task. Used by bench/bench_remote.sh next to
// `ssh HOST true` over the same kind of master; no cgspawn exec is counted.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cgspawn/cgspawn.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: cgspawn-bench-remote HOST SSH_CONFIG [N]\n");
    return 2;
  }
  int n = argc > 3 ? std::atoi(argv[3]) : 20;
  cgspawn::BackendOptions options;
  options.backend = "remote";
  options.host = argv[1];
  options.ssh_config = argv[2];
  options.kill_session_ahead = std::chrono::seconds(2);  // as `cgspawn run` has it
  auto spawner = cgspawn::make_spawner(options);
  cgspawn::TaskSpec holder_spec;
  holder_spec.argv = {"sleep", "3600"};
  auto holder = spawner->spawn(holder_spec);  // keeps the master up between the tasks
  cgspawn::TaskSpec spec;
  spec.argv = {"true"};
  auto once = [&] {
    cgspawn::Result r = spawner->spawn(spec)->wait();
    if (!r.cleanup.complete() || r.exit.code != 0) {
      std::fprintf(stderr, "cleanup incomplete or true failed\n");
      std::exit(1);
    }
  };
  once();  // warm-up
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) once();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / n;
  cgspawn::DestroyOptions now;
  now.grace = cgspawn::Duration::zero();
  if (!holder->finish(now, cgspawn::ExitReason::destroyed).cleanup.complete()) {
    std::fprintf(stderr, "the holder's cleanup is incomplete\n");
    return 1;
  }
  std::printf("%.1f\n", ms);
}
