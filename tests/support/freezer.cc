// SPDX-License-Identifier: MIT
#include "freezer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "host.hpp"

namespace cgtest {
namespace {

int write_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : errno;
  ::close(fd);
  return err;
}

std::string state_of(const std::string& path) {
  auto s = read_text(path + "/freezer.state").value_or("");
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

V1Freezer::V1Freezer() : root_(v1_mount("freezer")) {
  if (root_.empty()) return;
  std::string path = root_ + "/" + unique_name();
  if (::mkdir(path.c_str(), 0755) != 0)
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  path_ = path;
}

V1Freezer::~V1Freezer() {
  if (path_.empty()) return;
  thaw();
  // A thawed process acts on its pending SIGKILL and leaves by itself; anything else goes
  // back to the root freezer cgroup, where it came from, so the directory can be removed.
  bool empty = eventually([&] { return read_pids(path_ + "/cgroup.procs").empty(); }, 3s);
  if (!empty)
    for (pid_t pid : read_pids(path_ + "/cgroup.procs"))
      write_file(root_ + "/cgroup.procs", std::to_string(pid));
  bool removed = eventually([&] { return ::rmdir(path_.c_str()) == 0 || errno == ENOENT; }, 5s);
  if (!removed) note_teardown_failure("could not remove the v1 freezer cgroup " + path_);
}

void V1Freezer::add(pid_t pid) const {
  if (int err = write_file(path_ + "/cgroup.procs", std::to_string(pid)))
    throw std::runtime_error("move " + std::to_string(pid) + " into " + path_ + ": " + std::strerror(err));
}

void V1Freezer::freeze() const {
  if (int err = write_file(path_ + "/freezer.state", "FROZEN"))
    throw std::runtime_error("freeze " + path_ + ": " + std::strerror(err));
  if (!eventually([&] { return state_of(path_) == "FROZEN"; }, 5s))
    throw std::runtime_error(path_ + " did not reach FROZEN (it says " + state_of(path_) + ")");
}

void V1Freezer::thaw() const {
  if (!path_.empty()) write_file(path_ + "/freezer.state", "THAWED");
}

}  // namespace cgtest
