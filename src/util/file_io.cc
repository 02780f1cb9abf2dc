// SPDX-License-Identifier: MIT
#include "util/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

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

std::optional<unsigned long long> keyed_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  unsigned long long v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w)
    if (w == word) return true;
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
