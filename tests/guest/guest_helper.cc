// SPDX-License-Identifier: MIT
// cgspawn-guest-helper: the workloads of the guest tier that neither sh nor cgspawn-test-helper
// make (tests/support/helper.cc belongs to the host tier).
//   alloc MB [GO_FILE]        write "ready" to stdout; wait until GO_FILE exists (when given);
//                             then touch MB MiB of anonymous memory, 1 MiB at a time; exit 0
//                             if all of it was touched (under a smaller memory.max it is not)
//   fork N FILE RELEASE_FILE  fork N children that sleep forever; append "ok PID" or
//                             "fail ERRNO" per fork to FILE, then "done"; exit 0 once
//                             RELEASE_FILE exists (the children stay behind for destroy)
// Every line is written with one write(2) to a file opened O_APPEND.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void sleep_forever() {
  for (;;) ::pause();
}

bool exists(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0;
}

void wait_for_file(const char* path) {
  while (!exists(path)) ::usleep(20000);
}

void append(const char* file, const std::string& line) {
  int fd = ::open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(file);
    std::exit(2);
  }
  std::string text = line + "\n";
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::perror("write");
  ::close(fd);
}

int alloc(long mib, const char* go_file) {
  std::printf("ready\n");
  std::fflush(stdout);
  if (go_file) wait_for_file(go_file);
  std::vector<char*> blocks;
  const size_t chunk = 1 << 20;
  for (long i = 0; i < mib; ++i) {
    char* p = static_cast<char*>(std::malloc(chunk));
    if (!p) {
      std::fprintf(stderr, "malloc failed after %ld MiB\n", i);
      return 3;
    }
    std::memset(p, static_cast<int>(i) | 1, chunk);  // touched: charged to the cgroup
    blocks.push_back(p);
  }
  std::printf("allocated %ld MiB\n", mib);
  return 0;
}

int forker(int n, const char* file, const char* release_file) {
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) sleep_forever();
    if (pid > 0)
      append(file, "ok " + std::to_string(pid));
    else
      append(file, "fail " + std::to_string(errno));
  }
  append(file, "done");
  wait_for_file(release_file);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "alloc" && (argc == 3 || argc == 4))
    return alloc(std::atol(argv[2]), argc == 4 ? argv[3] : nullptr);
  if (mode == "fork" && argc == 5) return forker(std::atoi(argv[2]), argv[3], argv[4]);
  std::fprintf(stderr, "usage: %s alloc MB [GO_FILE] | fork N FILE RELEASE_FILE\n", argv[0]);
  return 2;
}
