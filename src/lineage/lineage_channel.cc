// SPDX-License-Identifier: MIT
#include "lineage/lineage_channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace cgspawn {

std::string lineage_socket_path(const std::string& ledger_dir) {
  return ledger_dir + "/.lineage.sock";
}
std::string lineage_lock_path(const std::string& ledger_dir) {
  return ledger_dir + "/.lineage.lock";
}

bool send_message(int fd, const nlohmann::json& message) {
  std::string text = message.dump() + "\n";
  for (std::size_t done = 0; done < text.size();) {
    ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

uid_t peer_uid(int fd, pid_t* pid) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return static_cast<uid_t>(-1);
  if (pid) *pid = cred.pid;
  return cred.uid;
}

bool MessageReader::read_some(int fd) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<nlohmann::json> MessageReader::next() {
  for (;;) {
    std::size_t end = buffer_.find('\n');
    if (end == std::string::npos) return std::nullopt;
    std::string line = buffer_.substr(0, end);
    buffer_.erase(0, end + 1);
    auto message = nlohmann::json::parse(line, nullptr, false);
    if (message.is_object()) return message;
  }
}

}  // namespace cgspawn
