// SPDX-License-Identifier: MIT
#include "backends/remote/mux_sessions.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "util/unique_fd.hpp"

namespace cgspawn::remote {
namespace {

// /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path", St 01 listening, 03
// connected. An accepted connection carries its listener's name.
constexpr std::string_view kListening = "01", kConnected = "03";
constexpr std::size_t kRandomPart = 16;  // OpenSSH's muxserver_listen: "%s.%s", 16 characters

std::string read_all(const char* path) {
  std::string text;
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return text;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

// The space-separated field `index` of `line`, and where it ends.
std::string_view field(std::string_view line, int index, std::size_t& end) {
  std::size_t at = 0;
  for (int i = 0;; ++i) {
    at = line.find_first_not_of(' ', at);
    if (at == std::string_view::npos) return {};
    end = line.find(' ', at);
    if (end == std::string_view::npos) end = line.size();
    if (i == index) return line.substr(at, end - at);
    at = end;
  }
}

// The socket's name: the rest of the line after the inode (a name may hold spaces).
std::string_view name_of(std::string_view line) {
  std::size_t end = 0;
  if (field(line, 6, end).empty() || end + 1 >= line.size()) return {};
  return line.substr(end + 1);
}

// The control path a socket named `name` in `dir` stands for, or "" if none.
std::string_view control_path_of(std::string_view name, std::string_view dir) {
  if (name.size() <= dir.size() + 1 || name.substr(0, dir.size()) != dir || name[dir.size()] != '/')
    return {};
  std::string_view base = name.substr(dir.size() + 1);
  if (base.find('/') != std::string_view::npos) return {};
  auto dot = base.find('.');
  if (dot != std::string_view::npos && base.size() - dot - 1 == kRandomPart) base = base.substr(0, dot);
  return name.substr(0, dir.size() + 1 + base.size());
}

}  // namespace

std::map<std::string, std::size_t> mux_sessions(const std::string& dir) {
  std::map<std::string, std::size_t> sessions;
  std::string table = read_all("/proc/net/unix");
  std::string_view rest = table;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    std::size_t end = 0;
    std::string_view state = field(line, 5, end);
    if (state != kListening && state != kConnected) continue;
    std::string_view path = control_path_of(name_of(line), dir);
    if (path.empty()) continue;
    std::size_t& n = sessions[std::string(path)];
    if (state == kConnected) ++n;
  }
  return sessions;
}

}  // namespace cgspawn::remote
