// SPDX-License-Identifier: MIT
// ProcEvents: the kernel's process events connector (netlink, NETLINK_CONNECTOR/CN_IDX_PROC),
// which reports every fork, exec and exit on the host. Subscribing needs CAP_NET_ADMIN in the
// initial user namespace (root); one subscription serves every task of this process.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "util/unique_fd.hpp"

namespace cgspawn {

struct ProcEvent {
  enum class Kind { fork, exec, exit } kind;
  pid_t pid = 0;     // fork: the child process (tgid); exec, exit: the process (tgid)
  pid_t parent = 0;  // fork: the parent process (tgid)
};

class ProcEvents {
 public:
  // Subscribes. Throws Error(unsupported) naming why the host refuses (not root, no connector).
  ProcEvents();
  ~ProcEvents();  // unsubscribes
  ProcEvents(const ProcEvents&) = delete;
  ProcEvents& operator=(const ProcEvents&) = delete;

  int fd() const { return sock_.get(); }

  // Reads what is queued, without blocking, calling `on` for each process event (threads'
  // forks and exits are left out). Returns false when the kernel dropped events because the
  // socket's buffer was full (ENOBUFS): what was lost cannot be known.
  bool read_queued(const std::function<void(const ProcEvent&)>& on);

 private:
  void send_op(int op);
  UniqueFd sock_;
};

}  // namespace cgspawn
