// SPDX-License-Identifier: MIT
#include "util/file_io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "util/text_items.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn {
namespace {

std::optional<std::string> read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

std::optional<std::string> read_file_at(int dirfd, const std::string& name) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  return read_all(fd.get());
}

std::optional<std::string> read_file(const std::string& path) {
  return read_file_at(AT_FDCWD, path);
}

int write_file_at(int dirfd, const std::string& name, const std::string& content) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  ssize_t n;
  do n = ::write(fd.get(), content.data(), content.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  return static_cast<size_t>(n) == content.size() ? 0 : EIO;
}

int write_file(const std::string& path, const std::string& content) {
  return write_file_at(AT_FDCWD, path, content);
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n > 0) {
      text.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else if (!(n < 0 && errno == EINTR)) {
      return false;
    }
  }
  return true;
}

std::optional<unsigned long long> keyed_value(std::string_view text, std::string_view key) {
  // Line by line, no stream: every task's end reads cpu.stat, memory.events and cgroup.events
  // this way (bench [7]).
  while (!text.empty()) {
    std::string_view line = take_item(text, '\n');
    std::size_t gap = line.find_first_of(" \t");
    if (gap == std::string_view::npos || line.substr(0, gap) != key) continue;
    std::string_view value = line.substr(gap);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    unsigned long long v = 0;
    auto [rest, error] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (error == std::errc() && (rest == value.data() + value.size() || *rest == ' ' || *rest == '\t'))
      return v;
    return std::nullopt;
  }
  return std::nullopt;
}

bool has_word(std::string_view text, std::string_view word) {
  constexpr std::string_view kSpace = " \t\n";
  for (std::size_t at = text.find_first_not_of(kSpace); at != std::string_view::npos;
       at = text.find_first_not_of(kSpace, at)) {
    std::size_t end = std::min(text.find_first_of(kSpace, at), text.size());
    if (text.substr(at, end - at) == word) return true;
    at = end;
  }
  return false;
}

std::string read_from_start(int fd) {
  std::string text;
  char buf[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  return text;
}

}  // namespace cgspawn
