// SPDX-License-Identifier: MIT
// The lineage server's wire: one JSON object per line over a unix stream socket, in the
// ledger's directory, reachable by the server's own user only.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "util/unique_fd.hpp"

namespace cgspawn {

std::string lineage_socket_path(const std::string& ledger_dir);
std::string lineage_lock_path(const std::string& ledger_dir);

// Writes `message` and its newline whole. False when the peer is gone.
bool send_message(int fd, const nlohmann::json& message);

// The user id of the peer of a connected unix socket (-1 when unknown), and its pid.
uid_t peer_uid(int fd, pid_t* pid = nullptr);

// Splits what a socket delivers into messages.
class MessageReader {
 public:
  // Reads what is there (blocks until something is). False at end of file or on an error.
  bool read_some(int fd);
  // The next whole message read so far; a line that is no JSON object is skipped.
  std::optional<nlohmann::json> next();

 private:
  std::string buffer_;
};

}  // namespace cgspawn
