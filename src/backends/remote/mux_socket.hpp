// SPDX-License-Identifier: MIT
// The wire of OpenSSH's connection multiplexing protocol (PROTOCOL.mux) on a master's control
// socket: packets of a 32-bit length and a payload of 32-bit words and strings (a 32-bit length
// and the bytes), and descriptors passed one per message (one byte of data, SCM_RIGHTS).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::remote {

inline constexpr uint32_t kMuxHello = 0x00000001, kMuxVersion = 4;

// A packet's payload, built in order.
class MuxPacket {
 public:
  MuxPacket& word(uint32_t w);
  MuxPacket& string(std::string_view s);
  const std::string& payload() const { return payload_; }

 private:
  std::string payload_;
};

// A received payload, read in order. Reading past its end gives 0 and "" and clears ok().
class MuxReply {
 public:
  explicit MuxReply(std::vector<char> payload) : payload_(std::move(payload)) {}
  uint32_t word();
  std::string string();
  bool ok() const { return ok_; }

 private:
  std::vector<char> payload_;
  size_t at_ = 0;
  bool ok_ = true;
};

// connect(2) to a control socket. refused: nothing is listening there. unusable: no socket
// could even be tried (a path too long for sun_path, or no fd left).
struct MuxConnected {
  UniqueFd fd;
  bool refused = false;
  bool unusable = false;
  int error = 0;  // connect's errno, when neither connected nor unusable
};
MuxConnected mux_connect(const std::string& control_path);

// Each call gives up at its deadline, and on EOF or an error (false or nullopt).
class MuxSocket {
 public:
  MuxSocket() = default;
  explicit MuxSocket(UniqueFd fd) : fd_(std::move(fd)) {}

  bool send(const MuxPacket& packet, Clock::time_point deadline);
  // One descriptor, as ssh's mm_send_fd passes it: the master reads one message per descriptor.
  bool send_fd(int fd, Clock::time_point deadline);
  std::optional<MuxReply> receive(Clock::time_point deadline);
  // Both sides say hello first; the master's may carry extensions after the version.
  bool hello(Clock::time_point deadline);

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  void close() { fd_.reset(); }

 private:
  bool io(char* data, size_t size, short event, Clock::time_point deadline);

  UniqueFd fd_;
};

}  // namespace cgspawn::remote
