// SPDX-License-Identifier: MIT
#include "backends/remote/mux_alive.hpp"

#include <unistd.h>

#include "backends/remote/mux_socket.hpp"

namespace cgspawn::remote {
namespace {

constexpr uint32_t kAliveCheck = 0x10000004, kAlive = 0x80000005;

}  // namespace

bool nobody_listens(const std::string& control_path) {
  return mux_connect(control_path).refused;
}

MuxAlive mux_alive(const std::string& control_path, Duration timeout) {
  MuxConnected c = mux_connect(control_path);
  if (c.unusable) return {MuxAnswer::unknown, 0};
  if (!c.fd.valid()) return {MuxAnswer::dead, 0};
  MuxSocket mux(std::move(c.fd));
  auto deadline = Clock::now() + timeout;
  // Both sides say hello first; the master's may carry extensions after the version.
  if (!mux.send(MuxPacket().word(kMuxHello).word(kMuxVersion), deadline)) return {MuxAnswer::dead, 0};
  auto hello = mux.receive(deadline);
  if (!hello) return {MuxAnswer::dead, 0};
  uint32_t greeting = hello->word();
  hello->word();  // its version: the check below is in every version since 2010
  if (!hello->ok() || greeting != kMuxHello) return {MuxAnswer::unknown, 0};
  const uint32_t request = static_cast<uint32_t>(::getpid());
  if (!mux.send(MuxPacket().word(kAliveCheck).word(request), deadline)) return {MuxAnswer::dead, 0};
  auto alive = mux.receive(deadline);
  if (!alive) return {MuxAnswer::dead, 0};
  uint32_t type = alive->word(), answered = alive->word(), pid = alive->word();
  if (!alive->ok() || type != kAlive || answered != request) return {MuxAnswer::unknown, 0};
  return {MuxAnswer::alive, static_cast<int>(pid)};
}

}  // namespace cgspawn::remote
