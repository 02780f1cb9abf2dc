// SPDX-License-Identifier: MIT
#include "output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <utility>

namespace cgspawn::cli {
namespace {

std::string cannot_write(const std::string& path, int err) {
  return "--result: cannot write " + path + ": " + std::strerror(err);
}

}  // namespace

void print_error(const std::string& message) {
  std::string line = message;
  for (auto& c : line)
    if (c == '\n') c = ' ';
  std::cerr << "cgspawn: " << line << std::endl;
}

// Checked before the task starts, but no file is left there while it runs: a `cgspawn` killed
// meanwhile (wait, run) leaves nothing. The temporary file exists only while write() writes.
ResultFile::ResultFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  // The temporary file is made next to FILE, so a FILE that is a directory would pass the check
  // below, and only the final rename fail (EISDIR): the Result would be lost.
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(ErrorKind::invalid_argument, cannot_write(path_, EISDIR));
  temp_path_ = path_ + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrorKind::invalid_argument, cannot_write(path_, errno));
  ::close(fd);
  ::unlink(temp_path_.c_str());
  armed_ = true;
}

void ResultFile::write(const std::string& text) {
  if (!armed_) return;
  armed_ = false;
  int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  if (fd >= 0) ::close(fd);
  if (ok && std::rename(temp_path_.c_str(), path_.c_str()) == 0) return;
  print_error(cannot_write(path_, err ? err : EIO));
  ::unlink(temp_path_.c_str());
}

void ResultFile::discard() {
  armed_ = false;
}

}  // namespace cgspawn::cli
