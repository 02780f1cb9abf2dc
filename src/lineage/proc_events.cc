// SPDX-License-Identifier: MIT
#include "lineage/proc_events.hpp"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "cgspawn/error.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

constexpr int kReceiveBuffer = 8 << 20;  // fork storms: the kernel drops what does not fit

[[noreturn]] void unsupported(const std::string& what, int err) {
  throw Error(ErrorKind::unsupported, sys_message("process events connector: " + what, err));
}

// The kernel answers a (un)subscription with a PROC_EVENT_NONE carrying its error.
int wait_for_ack(int fd) {
  alignas(nlmsghdr) char buf[4096];
  for (int tries = 0; tries < 64; ++tries) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return ETIMEDOUT;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) return errno;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n));
         h = NLMSG_NEXT(h, n)) {
      auto* msg = static_cast<cn_msg*>(NLMSG_DATA(h));
      auto* ev = reinterpret_cast<proc_event*>(msg->data);
      if (ev->what == proc_event::PROC_EVENT_NONE) return static_cast<int>(ev->event_data.ack.err);
    }
  }
  return ETIMEDOUT;
}

}  // namespace

ProcEvents::ProcEvents() : sock_(::socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR)) {
  if (!sock_.valid()) unsupported("socket", errno);
  int size = kReceiveBuffer;
  if (::setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    ::setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  if (::bind(fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) unsupported("bind", errno);
  send_op(PROC_CN_MCAST_LISTEN);
  if (int err = wait_for_ack(fd())) unsupported("subscribe", err);
}

ProcEvents::~ProcEvents() {
  try {
    send_op(PROC_CN_MCAST_IGNORE);  // the kernel counts listeners: stop its work for us
  } catch (const Error&) {
  }
}

void ProcEvents::send_op(int op) {
  // nlmsghdr, then cn_msg, whose flexible data is the operation.
  constexpr std::size_t kSize = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
  alignas(nlmsghdr) char req[kSize] = {};
  auto* header = reinterpret_cast<nlmsghdr*>(req);
  header->nlmsg_len = kSize;
  header->nlmsg_type = NLMSG_DONE;
  auto* message = static_cast<cn_msg*>(NLMSG_DATA(header));
  message->id.idx = CN_IDX_PROC;
  message->id.val = CN_VAL_PROC;
  message->len = sizeof(proc_cn_mcast_op);
  auto value = static_cast<proc_cn_mcast_op>(op);
  std::memcpy(message->data, &value, sizeof value);
  if (::send(fd(), req, kSize, 0) != static_cast<ssize_t>(kSize)) unsupported("send", errno);
}

bool ProcEvents::read_queued(const std::function<void(const ProcEvent&)>& on) {
  alignas(nlmsghdr) char buf[16384];
  bool complete = true;
  for (;;) {
    ssize_t n = ::recv(fd(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        complete = false;
        continue;
      }
      if (errno == EINTR) continue;
      return complete;  // EAGAIN: all read
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n));
         h = NLMSG_NEXT(h, n)) {
      auto* ev = reinterpret_cast<proc_event*>(static_cast<cn_msg*>(NLMSG_DATA(h))->data);
      const auto& d = ev->event_data;
      switch (ev->what) {
        case proc_event::PROC_EVENT_FORK:
          if (d.fork.child_pid == d.fork.child_tgid)
            on({ProcEvent::Kind::fork, d.fork.child_tgid, d.fork.parent_tgid});
          break;
        case proc_event::PROC_EVENT_EXEC:
          on({ProcEvent::Kind::exec, d.exec.process_tgid, 0});
          break;
        case proc_event::PROC_EVENT_EXIT:
          if (d.exit.process_pid == d.exit.process_tgid) on({ProcEvent::Kind::exit, d.exit.process_tgid, 0});
          break;
        default:
          break;
      }
    }
  }
}

}  // namespace cgspawn
