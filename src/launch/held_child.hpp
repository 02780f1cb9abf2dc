// SPDX-License-Identifier: MIT
// The task's main process, forked before its scope exists and held before exec until the scope
// is verified (as systemd-run --scope and Slurm do): the program never runs outside its scope.
// And the anchor: a process of cgspawn's own in the scope that keeps its cgroup (and with it
// memory.events, memory.peak, cpu.stat) until cgspawn has read the usage; systemd removes a
// scope's cgroup the moment it empties.
#pragma once

#include <sys/types.h>

#include "launch/launcher.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {

class HeldChild {
 public:
  // Forks the child; it sets up nothing and runs nothing until release(). Throws Error(system).
  explicit HeldChild(const LaunchRequest& request);
  ~HeldChild();  // a child never released is killed and reaped
  HeldChild(const HeldChild&) = delete;
  HeldChild& operator=(const HeldChild&) = delete;

  pid_t pid() const { return launched_.pid; }
  int pidfd() const { return launched_.pidfd.get(); }

  // Lets the child exec and waits until it has (or failed to: then the child is reaped and
  // cgspawn::Error is thrown as launch() throws it). Returns the running main process.
  Launched release();

 private:
  LaunchRequest request_;
  Launched launched_;
  UniqueFd go_;      // write end: one byte releases the child; closing it makes the child exit
  UniqueFd report_;  // read end: closed by exec, or carries the child's failure
};

class Anchor {
 public:
  Anchor();   // forks a process that sleeps until this object (or its caller) goes away
  ~Anchor();  // ends and reaps it
  Anchor(const Anchor&) = delete;
  Anchor& operator=(const Anchor&) = delete;

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  void end();  // closes its pipe (it exits), kills it if need be, reaps it

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd hold_;  // write end; the anchor exits at EOF, i.e. when cgspawn's process dies too
};

}  // namespace cgspawn
