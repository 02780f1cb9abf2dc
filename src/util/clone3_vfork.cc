// SPDX-License-Identifier: MIT
#include "util/clone3_vfork.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace cgspawn::sys {
namespace {

struct ChildStart {
  void (*child)(void*);
  void* arg;
};

// In the child, before anything of the caller's can run there: a handler the caller installed
// would run on the caller's memory, so it goes back to SIG_DFL (SIG_IGN stays, as across fork
// and exec).
[[noreturn]] void start_child(void* start) {
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction now {};
    if (::sigaction(sig, nullptr, &now) != 0) continue;
    // sa_handler and sa_sigaction share their storage: SIG_DFL and SIG_IGN read the same.
    if (now.sa_handler == SIG_DFL || now.sa_handler == SIG_IGN) continue;
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
  }
  auto* s = static_cast<ChildStart*>(start);
  s->child(s->arg);
  ::_exit(127);  // `child` does not return; should it, the caller must not run on here
}

#if defined(__x86_64__)
constexpr bool kShareMemory = true;
// The child wakes on the new stack with the caller's registers: rax 0, rsp the stack's top. It
// cannot return into the caller's frames (they are the caller's), so it calls on from here.
// long cgspawn_clone3_run(clone_args* (rdi), size_t (rsi), void (*)(void*) (rdx), void* (rcx))
asm(R"(
  .pushsection .text
  .p2align 4
  .type cgspawn_clone3_run, @function
cgspawn_clone3_run:
  .cfi_startproc
  movq %rdx, %r8
  movq %rcx, %r9
  movl $435, %eax
  syscall
  testq %rax, %rax
  jz 1f
  ret
1:
  .cfi_undefined %rip
  xorl %ebp, %ebp
  movq %r9, %rdi
  call *%r8
  ud2
  .cfi_endproc
  .size cgspawn_clone3_run, .-cgspawn_clone3_run
  .popsection
)");
extern "C" long cgspawn_clone3_run(clone_args* args, std::size_t size, void (*child)(void*), void* arg);
static_assert(SYS_clone3 == 435);

long run_clone3(clone_args* args, std::size_t size, ChildStart* start) {
  // On the caller's own stack, as musl's posix_spawn: the caller sleeps while the child runs
  // here. What the child does before exec needs about 9 KiB at most (isolate()'s PATH_MAX
  // buffer, small frames, a lazy binding's saved registers); nothing guards its end.
  alignas(64) char stack[16384];
  args->flags |= CLONE_VM | CLONE_VFORK;
  args->stack = reinterpret_cast<std::uint64_t>(stack);
  args->stack_size = sizeof stack;
  long r = cgspawn_clone3_run(args, size, start_child, start);
  asm volatile("" ::: "memory");  // the child wrote into `stack`: it must not be thought dead
  if (r < 0) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
}
#else
constexpr bool kShareMemory = false;

long run_clone3(clone_args* args, std::size_t size, ChildStart* start) {
  long r = ::syscall(SYS_clone3, args, size);
  if (r == 0) start_child(start);
  return r;
}
#endif

}  // namespace

long clone3_vfork(clone_args* args, std::size_t size, void (*child)(void*), void* arg) {
  ChildStart start{child, arg};
  sigset_t all, saved;
  ::sigfillset(&all);
  if (kShareMemory) ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  long r = run_clone3(args, size, &start);
  int err = errno;
  if (kShareMemory) ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  errno = err;
  return r;
}

}  // namespace cgspawn::sys
