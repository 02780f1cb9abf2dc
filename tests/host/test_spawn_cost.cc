// SPDX-License-Identifier: MIT
// The spawn is vfork-style on x86-64 (src/util/clone3_vfork.hpp): it copies no page table, so
// a caller of 1 GiB spawns as fast as a small one, and it leaves the caller's signal handlers
// and mask as they were.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "host.hpp"
#include "task.hpp"

using namespace cgtest;
using namespace cgspawn;

#if defined(__x86_64__)
namespace {

template <typename F>
double median_ms(F&& once) {
  std::vector<double> ms;
  for (int i = 0; i < 7; ++i) {
    auto t = Clock::now();
    once();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void fork_exec_true() {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl("/bin/true", "true", nullptr);
    ::_exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
}

void callers_usr1(int) {}

}  // namespace

TEST_CASE("a caller of 1 GiB spawns without copying its page tables; its handlers and mask stay") {
  // 1 GiB in 4 KiB pages, every one touched: fork copies 262,144 page table entries.
  constexpr std::size_t kSize = std::size_t{1} << 30;
  void* big = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(big != MAP_FAILED);
  ::madvise(big, kSize, MADV_NOHUGEPAGE);
  for (std::size_t at = 0; at < kSize; at += 4096) static_cast<char*>(big)[at] = 1;

  struct sigaction mine = {}, before = {}, after = {};
  mine.sa_handler = callers_usr1;
  REQUIRE(::sigaction(SIGUSR1, &mine, &before) == 0);
  sigset_t blocked, mask_before, mask_after;  // emptied first: the kernel fills only its 64 bits
  sigemptyset(&blocked);
  sigemptyset(&mask_before);
  sigemptyset(&mask_after);
  sigaddset(&blocked, SIGUSR2);
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &blocked, nullptr) == 0);
  REQUIRE(::pthread_sigmask(SIG_BLOCK, nullptr, &mask_before) == 0);

  TestParent parent;
  auto spawner = spawner_under(parent);
  int failed = 0;
  double library = median_ms([&] {
    TaskSpec spec;
    spec.argv = {"/bin/true"};
    failed += spawner->spawn(spec)->wait().exit.code != 0;
  });
  double fork_exec = median_ms(fork_exec_true);
  REQUIRE(::pthread_sigmask(SIG_SETMASK, nullptr, &mask_after) == 0);
  ::sigaction(SIGUSR1, &before, &after);
  ::pthread_sigmask(SIG_UNBLOCK, &blocked, nullptr);
  ::munmap(big, kSize);

  CHECK(failed == 0);
  // fork + exec alone, against spawn, wait and a verified destroy: where the spawn forked, the
  // library took longer (a cgroup made and removed on top); vfork-style it is 25 times faster
  // here (1.6 ms against 41 ms). 4x leaves room for a loaded machine and still fails a fork.
  // Where the kernel refuses clone3 the library forks (docs/backends.md), and this fails.
  CAPTURE(library);
  CAPTURE(fork_exec);
  CHECK(library * 4 < fork_exec);
  CHECK((after.sa_handler == callers_usr1));  // (()): doctest cannot print a function pointer
  CHECK(sigismember(&mask_after, SIGUSR2) == 1);
  std::string changed;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sigismember(&mask_before, sig) != sigismember(&mask_after, sig)) changed += " " + std::to_string(sig);
  CHECK(changed == "");
  CHECK(parent.children().empty());
}
#endif
