// SPDX-License-Identifier: MIT
#include "launch/isolation.hpp"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "cgspawn/error.hpp"
#include "util/file_io.hpp"

namespace cgspawn {
namespace {

bool has_sys_admin() {
  // The effective set of this process (CapEff, hex): root in the initial user namespace has
  // it; a root without it (an unprivileged container) does not, and a user never does.
  std::string status = read_file("/proc/self/status").value_or("");
  auto at = status.find("CapEff:");
  if (at == std::string::npos) return ::geteuid() == 0;
  unsigned long long eff = std::strtoull(status.c_str() + at + 7, nullptr, 16);
  return (eff >> CAP_SYS_ADMIN) & 1;
}

// /proc/self/fd/N, written without allocating (after fork).
void fd_path(int fd, char (&out)[32]) {
  const char prefix[] = "/proc/self/fd/";
  char digits[12];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + fd % 10);
  while ((fd /= 10) > 0 && n < 11);
  std::size_t i = 0;
  for (; prefix[i]; ++i) out[i] = prefix[i];
  while (n > 0) out[i++] = digits[--n];
  out[i] = 0;
}

// The directory open at `fd`, bound at `path` again: every missing directory on the way is made
// (in the new tmpfs), then the bind mount.
bool bind_back(int fd, const char* path) {
  char prefix[PATH_MAX];
  std::size_t i = 0;
  for (; path[i] && i + 1 < sizeof prefix; ++i) {
    if (path[i] == '/' && i > 0) {
      prefix[i] = 0;
      if (::mkdir(prefix, 0755) != 0 && errno != EEXIST) return false;
    }
    prefix[i] = path[i];
  }
  prefix[i] = 0;
  if (::mkdir(prefix, 0700) != 0 && errno != EEXIST) return false;
  char source[32];
  fd_path(fd, source);
  bool ok = ::mount(source, path, nullptr, MS_BIND, nullptr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string isolation_unavailable(const Isolation& isolation) {
  if (!isolation.any() || has_sys_admin()) return "";
  std::string what = isolation.private_tmp ? "--private-tmp" : "--private-ipc";
  return what +
         ": cgspawn cannot make the task a namespace of its own here: that needs CAP_SYS_ADMIN (run "
         "as root)";
}

void refuse_hidden_cwd(const Isolation& isolation, const std::string& cwd) {
  if (!isolation.private_tmp || cwd.empty()) return;
  auto under = [](const std::string& path, const std::string& dir) {
    return path == dir || path.rfind(dir + "/", 0) == 0;
  };
  if (!isolation.scratch.empty() && under(cwd, isolation.scratch)) return;
  for (const char* dir : kPrivateTmpDirs)
    if (under(cwd, dir))
      throw Error(ErrorKind::invalid_argument,
                  "--private-tmp: the working directory " + cwd + " is under " + dir +
                      ", which the task's own " + dir +
                      " replaces: give --chdir a directory outside /tmp, /var/tmp and "
                      "/dev/shm (or in its --scratch directory)");
}

Capability private_tmp_capability() {
  if (std::string why = isolation_unavailable({true, false}); !why.empty()) return {false, why};
  return {true,
          "a mount namespace of the task's own, made by its child before exec: /tmp, /var/tmp and "
          "/dev/shm are empty tmpfs, gone with the task"};
}

Capability private_ipc_capability() {
  if (std::string why = isolation_unavailable({false, true}); !why.empty()) return {false, why};
  return {true,
          "an IPC namespace of the task's own (SysV IPC, POSIX message queues), made by its child "
          "before exec"};
}

bool isolate(const Isolation& isolation) {
  if (!isolation.any()) return true;
  int flags = CLONE_NEWNS | (isolation.private_ipc ? CLONE_NEWIPC : 0);
  if (::unshare(flags) != 0) return false;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return false;
  if (isolation.private_tmp) {
    // Held open across the new tmpfs, which hides its path.
    int scratch =
        isolation.scratch.empty() ? -1 : ::open(isolation.scratch.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (!isolation.scratch.empty() && scratch < 0) return false;
    for (const char* dir : kPrivateTmpDirs)
      if (::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) return false;
    if (scratch >= 0 && !bind_back(scratch, isolation.scratch.c_str())) return false;
  }
  // The new namespace's own queues, where the host shows them (no /dev/mqueue: nothing to hide).
  if (isolation.private_ipc &&
      ::mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0 &&
      errno != ENOENT)
    return false;
  return true;
}

}  // namespace cgspawn
