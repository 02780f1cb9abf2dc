// SPDX-License-Identifier: MIT
// remove_tree (src/storage/remove_tree.hpp) as a user without root's override of permissions:
// read-only directories are opened up and emptied; symlinks go, what they point to stays.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/remove_tree.hpp"

namespace {

constexpr uid_t kNobody = 65534;

// In a child, as nobody when run as root (else as the caller, unprivileged already): builds the
// tree, removes it, and exits 0 only if it is gone with no error.
int remove_as_user(const std::string& top, const std::string& outside) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) ::_exit(3);
    bool built = ::mkdir(top.c_str(), 0700) == 0 && ::mkdir((top + "/ro").c_str(), 0700) == 0 &&
                 ::mkdir((top + "/ro/deep").c_str(), 0700) == 0 &&
                 ::close(::creat((top + "/ro/deep/f").c_str(), 0400)) == 0 &&
                 ::symlink("/", (top + "/root").c_str()) == 0 &&
                 ::symlink(outside.c_str(), (top + "/outside").c_str()) == 0 &&
                 ::chmod((top + "/ro/deep").c_str(), 0500) == 0 && ::chmod((top + "/ro").c_str(), 0500) == 0;
    if (!built) ::_exit(4);
    cgspawn::TreeRemoval r = cgspawn::remove_tree(top);
    ::_exit(r.existed && r.gone && r.error.empty() && r.mounts.empty() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE(
    "remove_tree: read-only directories are emptied and symlinks never followed, without root's override") {
  char pattern[] = "/tmp/cgspawn-test-rmtree-XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  std::string dir = pattern, outside = dir + "/outside", top = dir + "/tree";
  REQUIRE(::close(::creat(outside.c_str(), 0644)) == 0);
  if (::geteuid() == 0) REQUIRE(::chown(dir.c_str(), kNobody, kNobody) == 0);
  int status = remove_as_user(top, outside);
  CHECK(status == 0);
  CHECK(::access(outside.c_str(), F_OK) == 0);
  CHECK(::access(top.c_str(), F_OK) != 0);
  CHECK(::access("/bin/sh", X_OK) == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("remove_tree: a path that is not there is gone, and was not there") {
  cgspawn::TreeRemoval r = cgspawn::remove_tree("/nonexistent-cgspawn-test/dir");
  CHECK(r.gone);
  CHECK_FALSE(r.existed);
  CHECK(r.error.empty());
}
