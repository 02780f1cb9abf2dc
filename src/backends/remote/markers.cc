// SPDX-License-Identifier: MIT
#include "backends/remote/markers.hpp"

#include <sys/random.h>

#include <cstdio>
#include <ctime>
#include <utility>

namespace cgspawn::remote {
namespace {

Marker parse_line(const std::string& rest) {
  Marker m;
  auto space = rest.find(' ');
  m.word = rest.substr(0, space);
  if (space != std::string::npos) m.text = rest.substr(space + 1);
  return m;
}

}  // namespace

std::string make_mark() {
  unsigned char bytes[8] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // Only uniqueness against the task's output matters; the address and clock will do.
    auto v = reinterpret_cast<std::uintptr_t>(&bytes) ^ static_cast<std::uintptr_t>(::time(nullptr));
    for (auto& b : bytes) b = static_cast<unsigned char>(v >>= 7);
  }
  char hex[17];
  for (size_t i = 0; i < sizeof bytes; ++i) std::snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
  return std::string("@@cgspawn-") + hex + "@@";
}

std::string Marker::field(const std::string& key) const {
  std::string padded = " " + text;
  auto at = padded.find(" " + key + "=");
  if (at == std::string::npos) return "";
  size_t start = at + key.size() + 2;
  if (start < padded.size() && padded[start] == '[') {
    auto end = padded.find(']', start);
    return padded.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
  }
  if (key == "agent") return padded.substr(start);  // the agent's own record: the rest of the line
  return padded.substr(start, padded.find(' ', start) - start);
}

std::vector<Marker> find_markers(const std::string& text, const std::string& mark) {
  std::vector<Marker> out;
  size_t pos = 0;
  while ((pos = text.find(mark + " ", pos)) != std::string::npos) {
    size_t start = pos + mark.size() + 1;
    size_t end = text.find('\n', start);
    out.push_back(parse_line(text.substr(start, end == std::string::npos ? std::string::npos : end - start)));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

std::string MarkerDemux::feed(const std::string& bytes) {
  pending_ += bytes;
  std::string out;
  for (;;) {
    auto at = pending_.find(mark_);
    if (at == std::string::npos) break;
    auto end = pending_.find('\n', at);
    if (end == std::string::npos) {  // the rest of the marker line is still to come
      out += pending_.substr(0, at);
      pending_.erase(0, at);
      return out;
    }
    out += pending_.substr(0, at);
    std::string line = pending_.substr(at + mark_.size(), end - at - mark_.size());
    if (!line.empty() && line[0] == ' ') line.erase(0, 1);
    markers_.push_back(parse_line(line));
    pending_.erase(0, end + 1);
  }
  // Hold back a tail that may be the start of a mark split across reads.
  size_t keep = 0;
  for (size_t n = std::min(pending_.size(), mark_.size() - 1); n > 0; --n) {
    if (pending_.compare(pending_.size() - n, n, mark_, 0, n) == 0) {
      keep = n;
      break;
    }
  }
  out += pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string MarkerDemux::flush() {
  if (auto at = pending_.find(mark_); at != std::string::npos) {
    std::string line = pending_.substr(at + mark_.size());
    if (!line.empty() && line[0] == ' ') line.erase(0, 1);
    markers_.push_back(parse_line(line));
    pending_.erase(at);
  }
  return std::exchange(pending_, {});
}

std::vector<Marker> MarkerDemux::take_markers() {
  return std::exchange(markers_, {});
}

std::vector<RemoteProcess> parse_process_list(const std::string& list) {
  std::vector<RemoteProcess> out;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find(' ', pos);
    std::string token = list.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? list.size() : end + 1;
    auto colon = token.find(':');
    if (token.empty() ||
        token.find_first_not_of("0123456789") < (colon == std::string::npos ? token.size() : colon))
      continue;  // a comm with a space split off: not a pid entry
    RemoteProcess p;
    p.pid = std::atoi(token.c_str());
    if (colon != std::string::npos) p.comm = token.substr(colon + 1);
    if (p.pid > 0) out.push_back(p);
  }
  return out;
}

}  // namespace cgspawn::remote
