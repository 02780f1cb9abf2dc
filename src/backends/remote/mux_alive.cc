// SPDX-License-Identifier: MIT
#include "backends/remote/mux_alive.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::remote {
namespace {

constexpr uint32_t kHello = 0x00000001, kAliveCheck = 0x10000004, kAlive = 0x80000005, kVersion = 4;
constexpr uint32_t kMaxPacket = 256 * 1024;

class MuxSocket {
 public:
  MuxSocket(UniqueFd fd, Clock::time_point deadline) : fd_(std::move(fd)), deadline_(deadline) {}

  bool send(const std::vector<uint32_t>& words) {
    std::vector<uint32_t> packet = {htonl(static_cast<uint32_t>(words.size() * 4))};
    for (uint32_t w : words) packet.push_back(htonl(w));
    return io(reinterpret_cast<char*>(packet.data()), packet.size() * 4, POLLOUT);
  }

  // One packet's payload, or nullopt on EOF, error or timeout.
  std::optional<std::vector<char>> receive() {
    uint32_t len = 0;
    if (!io(reinterpret_cast<char*>(&len), 4, POLLIN)) return std::nullopt;
    len = ntohl(len);
    if (len > kMaxPacket) return std::nullopt;
    std::vector<char> payload(len);
    if (len && !io(payload.data(), len, POLLIN)) return std::nullopt;
    return payload;
  }

 private:
  bool io(char* data, size_t size, short event) {
    for (size_t done = 0; done < size;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      pollfd p{fd_.get(), event, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
      ssize_t n = event == POLLIN ? ::recv(fd_.get(), data + done, size - done, 0)
                                  : ::send(fd_.get(), data + done, size - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  UniqueFd fd_;
  Clock::time_point deadline_;
};

uint32_t word(const std::vector<char>& payload, size_t index) {
  uint32_t w = 0;
  std::memcpy(&w, payload.data() + index * 4, 4);
  return ntohl(w);
}

// connect(2) to the control socket. refused: nothing is listening there. unusable: no socket
// could even be tried (a path too long for sun_path, or no fd left).
struct Connected {
  UniqueFd fd;
  bool refused = false;
  bool unusable = false;
};

Connected connect_to(const std::string& control_path) {
  Connected c;
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
    c.refused = errno == ECONNREFUSED;
    c.fd = UniqueFd();
  }
  return c;
}

}  // namespace

bool nobody_listens(const std::string& control_path) {
  return connect_to(control_path).refused;
}

MuxAlive mux_alive(const std::string& control_path, Duration timeout) {
  Connected c = connect_to(control_path);
  if (c.unusable) return {MuxAnswer::unknown, 0};
  if (!c.fd.valid()) return {MuxAnswer::dead, 0};
  MuxSocket mux(std::move(c.fd), Clock::now() + timeout);
  // Both sides say hello first; the master's may carry extensions after the version.
  if (!mux.send({kHello, kVersion})) return {MuxAnswer::dead, 0};
  auto hello = mux.receive();
  if (!hello) return {MuxAnswer::dead, 0};
  if (hello->size() < 8 || word(*hello, 0) != kHello) return {MuxAnswer::unknown, 0};
  const uint32_t request = static_cast<uint32_t>(::getpid());
  if (!mux.send({kAliveCheck, request})) return {MuxAnswer::dead, 0};
  auto alive = mux.receive();
  if (!alive) return {MuxAnswer::dead, 0};
  if (alive->size() < 12 || word(*alive, 0) != kAlive || word(*alive, 1) != request)
    return {MuxAnswer::unknown, 0};
  return {MuxAnswer::alive, static_cast<int>(word(*alive, 2))};
}

}  // namespace cgspawn::remote
