// SPDX-License-Identifier: MIT
#include "backends/remote/mux_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace cgspawn::remote {
namespace {

constexpr uint32_t kMaxPacket = 256 * 1024;

int ms_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

bool wait_for(int fd, short event, Clock::time_point deadline) {
  for (;;) {
    int left = ms_until(deadline);
    if (left <= 0) return false;
    pollfd p{fd, event, 0};
    int n = ::poll(&p, 1, left);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

}  // namespace

MuxPacket& MuxPacket::word(uint32_t w) {
  uint32_t net = htonl(w);
  payload_.append(reinterpret_cast<const char*>(&net), 4);
  return *this;
}

MuxPacket& MuxPacket::string(std::string_view s) {
  word(static_cast<uint32_t>(s.size()));
  payload_.append(s);
  return *this;
}

uint32_t MuxReply::word() {
  if (at_ + 4 > payload_.size()) {
    ok_ = false;
    return 0;
  }
  uint32_t w = 0;
  std::memcpy(&w, payload_.data() + at_, 4);
  at_ += 4;
  return ntohl(w);
}

std::string MuxReply::string() {
  uint32_t size = word();
  if (!ok_ || at_ + size > payload_.size()) {
    ok_ = false;
    return "";
  }
  std::string s(payload_.data() + at_, size);
  at_ += size;
  return s;
}

MuxConnected mux_connect(const std::string& control_path) {
  MuxConnected c;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  c.fd = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (control_path.size() >= sizeof addr.sun_path || !c.fd.valid()) {
    c.unusable = true;
    c.fd = UniqueFd();
    return c;
  }
  std::memcpy(addr.sun_path, control_path.c_str(), control_path.size() + 1);
  if (::connect(c.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    c.error = errno;
    c.refused = errno == ECONNREFUSED;
    c.fd = UniqueFd();
    return c;
  }
  // Non-blocking once connected: every exchange after this has its deadline.
  ::fcntl(c.fd.get(), F_SETFL, ::fcntl(c.fd.get(), F_GETFL) | O_NONBLOCK);
  return c;
}

bool MuxSocket::io(char* data, size_t size, short event, Clock::time_point deadline) {
  for (size_t done = 0; done < size;) {
    ssize_t n = event == POLLIN ? ::recv(fd_.get(), data + done, size - done, 0)
                                : ::send(fd_.get(), data + done, size - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!wait_for(fd_.get(), event, deadline)) return false;
      continue;
    }
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool MuxSocket::send(const MuxPacket& packet, Clock::time_point deadline) {
  std::string bytes = MuxPacket().word(static_cast<uint32_t>(packet.payload().size())).payload();
  bytes += packet.payload();
  return io(bytes.data(), bytes.size(), POLLOUT, deadline);
}

bool MuxSocket::send_fd(int fd, Clock::time_point deadline) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  for (;;) {
    ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && wait_for(fd_.get(), POLLOUT, deadline)) continue;
    return false;
  }
}

std::optional<MuxReply> MuxSocket::receive(Clock::time_point deadline) {
  uint32_t len = 0;
  if (!io(reinterpret_cast<char*>(&len), 4, POLLIN, deadline)) return std::nullopt;
  len = ntohl(len);
  if (len > kMaxPacket) return std::nullopt;
  std::vector<char> payload(len);
  if (len && !io(payload.data(), len, POLLIN, deadline)) return std::nullopt;
  return MuxReply(std::move(payload));
}

bool MuxSocket::hello(Clock::time_point deadline) {
  if (!send(MuxPacket().word(kMuxHello).word(kMuxVersion), deadline)) return false;
  auto reply = receive(deadline);
  return reply && reply->word() == kMuxHello && reply->ok();
}

}  // namespace cgspawn::remote
