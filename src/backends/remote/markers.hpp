// SPDX-License-Identifier: MIT
// The agent's reply lines ("MARK WORD key=value ...") found in a stream that also carries
// login-shell noise and the task's own output.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cgspawn::remote {

// A fresh nonce, "@@cgspawn-<16 hex>@@": a task cannot forge the agent's lines.
std::string make_mark();

struct Marker {
  std::string word;  // STARTED, EXITED, ENDED, HELLO, KILLED, GONE, ... (agent.sh lists them all)
  std::string text;  // everything after the word

  // The value of " key=" up to the next space ("" when absent); for "[...]" values, up to "]".
  std::string field(const std::string& key) const;
};

// Every marker line in a complete text.
std::vector<Marker> find_markers(const std::string& text, const std::string& mark);

// Splits a live stream: marker lines out, every other byte passed through unchanged.
class MarkerDemux {
 public:
  explicit MarkerDemux(std::string mark) : mark_(std::move(mark)) {}
  // Feeds bytes; returns the bytes that are not part of a marker line (to forward).
  std::string feed(const std::string& bytes);
  // At EOF: whatever was held back.
  std::string flush();
  std::vector<Marker> take_markers();

 private:
  std::string mark_;
  std::string pending_;
  std::vector<Marker> markers_;
};

// "12:comm 13:comm" -> pid and comm pairs (remote PIDs: never used locally).
struct RemoteProcess {
  int pid = 0;
  std::string comm;
};
std::vector<RemoteProcess> parse_process_list(const std::string& list);

}  // namespace cgspawn::remote
