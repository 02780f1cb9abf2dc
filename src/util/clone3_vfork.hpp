// SPDX-License-Identifier: MIT
// clone3 as posix_spawn forks: the child shares the caller's memory (CLONE_VM) and the caller
// sleeps until the child has exec'd or exited (CLONE_VFORK). No page table is copied and no
// page is made copy-on-write, so the spawn costs the same whatever the caller's size, and the
// caller's next writes take no faults. What the child runs must only make async-signal-safe
// calls, never block waiting for the caller (which sleeps), never return, and write nothing
// the caller reads but its own stack (errno, the calling thread's, is clobbered: harmless, as
// the caller reads it only when there is no child).
#pragma once

#include <linux/sched.h>

#include <cstddef>

namespace cgspawn::sys {

// Starts `child(arg)` in a new process made by clone3(`args`), with CLONE_VM | CLONE_VFORK
// added where this architecture has the trampoline (x86-64), on a stack of its own; elsewhere
// the child is an ordinary fork of the caller. Returns the child's pid once it has exec'd or
// exited, or -1 with errno set (no child). Where the memory is shared, signals are blocked
// meanwhile, and the child resets every handler the caller installed to SIG_DFL before `child`
// runs (a handler run in the child would run on the caller's memory).
long clone3_vfork(clone_args* args, std::size_t size, void (*child)(void*), void* arg);

}  // namespace cgspawn::sys
