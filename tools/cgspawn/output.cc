#include "output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

#include "util/sys_error.hpp"

namespace cgspawn::cli {

void print_error(const std::string& message) {
  std::string line = message;
  for (auto& c : line)
    if (c == '\n') c = ' ';
  std::cerr << "cgspawn: " << line << std::endl;
}

ResultFile::ResultFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  // The temporary file is made next to FILE, so a FILE that is a directory passed this check
  // and the task ran, and only the final rename failed (EISDIR): the Result was lost.
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(ErrorKind::invalid_argument, sys_message("--result: cannot write " + path_, EISDIR));
  temp_path_ = path_ + ".tmp." + std::to_string(::getpid());
  fd_.reset(::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd_.valid())
    throw Error(ErrorKind::invalid_argument, sys_message("--result: cannot write " + path_, errno));
}

void ResultFile::write(const std::string& text) {
  if (!fd_.valid()) return;
  bool ok = ::write(fd_.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  fd_.reset();
  if (ok && std::rename(temp_path_.c_str(), path_.c_str()) == 0) return;
  print_error(sys_message("--result: cannot write " + path_, errno ? errno : EIO));
  ::unlink(temp_path_.c_str());
}

void ResultFile::discard() {
  if (!fd_.valid()) return;
  fd_.reset();
  ::unlink(temp_path_.c_str());
}

}  // namespace cgspawn::cli
