// SPDX-License-Identifier: MIT
// cgspawn-test-helper: the workloads that sh cannot make.
//   threads N FILE   start N threads, write every thread id (the pid first) to FILE, sleep
//   tree N FILE      become a tree of N processes (fan-out 10), each writes its pid, sleep
//   busy SECONDS     burn CPU for SECONDS of wall time, then exit 0
//   spin SECONDS     burn SECONDS of CPU time (however long a loaded machine takes), exit 0
//   ipc N FILE       make N SysV shared memory segments, N semaphore sets (each operated on
//                    once) and N message queues (one message sent), half of them from a child
//                    that exits at once; write "shm|sem|msg ID" lines to FILE, exit 0
// Every line is written with one write(2) to a file opened O_APPEND, so lines never mix.
#include <dirent.h>
#include <fcntl.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace {

void write_line(int fd, const std::string& line) {
  std::string text = line + "\n";
  if (::write(fd, text.data(), text.size()) < 0) std::perror("write");
}

// `count` of each kind, from this process.
void make_ipc_here(int count, int fd) {
  for (int i = 0; i < count; ++i) {
    int shm = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    int sem = ::semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    sembuf up{0, 1, 0};
    ::semop(sem, &up, 1);
    int msg = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    struct {
      long type;
      char text[4];
    } m{1, "hi"};
    ::msgsnd(msg, &m, sizeof m.text, 0);
    if (shm < 0 || sem < 0 || msg < 0) std::perror("ipc");
    write_line(fd, "shm " + std::to_string(shm));
    write_line(fd, "sem " + std::to_string(sem));
    write_line(fd, "msg " + std::to_string(msg));
  }
}

int make_ipc(int count, int fd) {
  pid_t child = ::fork();
  if (child == 0) {  // its objects outlive it: the kernel keeps its pid as theirs
    make_ipc_here(count / 2, fd);
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
  make_ipc_here(count - count / 2, fd);
  return 0;
}

[[noreturn]] void sleep_forever() {
  for (;;) ::pause();
}

int open_append(const char* path) {
  int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(path);
    std::exit(2);
  }
  return fd;
}

void write_all(int fd, const std::string& text) {
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::perror("write");
}

int threads(int n, const char* file) {
  std::vector<std::thread> pool;
  for (int i = 0; i < n; ++i) pool.emplace_back([] { sleep_forever(); });
  std::string text = std::to_string(::getpid()) + "\n";
  DIR* dir = ::opendir("/proc/self/task");
  while (dirent* e = dir ? ::readdir(dir) : nullptr) {
    int tid = std::atoi(e->d_name);
    if (tid > 0 && tid != ::getpid()) text += std::to_string(tid) + "\n";
  }
  if (dir) ::closedir(dir);
  write_all(open_append(file), text);
  sleep_forever();
}

// This process and `count - 1` descendants below it.
[[noreturn]] void grow(int count, int fd) {
  write_all(fd, std::to_string(::getpid()) + "\n");
  int rest = count - 1;
  int children = rest < 10 ? rest : 10;
  for (int i = 0; i < children; ++i) {
    int share = rest / children + (i < rest % children ? 1 : 0);
    pid_t pid = ::fork();
    if (pid == 0) grow(share, fd);
    if (pid < 0) std::perror("fork");
  }
  sleep_forever();
}

int busy(double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  volatile unsigned long x = 0;
  while (std::chrono::steady_clock::now() < end)
    for (int i = 0; i < 100000; ++i) x = x + static_cast<unsigned long>(i);
  return 0;
}

// CPU time, not wall time: a test that asserts the CPU time a task used holds on a machine
// whose cores are busy with something else.
int spin(double seconds) {
  auto used = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  volatile unsigned long x = 0;
  while (used() < seconds)
    for (int i = 0; i < 100000; ++i) x = x + static_cast<unsigned long>(i);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "ipc" && argc == 4) return make_ipc(std::atoi(argv[2]), open_append(argv[3]));
  if (mode == "threads" && argc == 4) return threads(std::atoi(argv[2]), argv[3]);
  if (mode == "tree" && argc == 4) grow(std::atoi(argv[2]), open_append(argv[3]));
  if (mode == "busy" && argc == 3) return busy(std::atof(argv[2]));
  if (mode == "spin" && argc == 3) return spin(std::atof(argv[2]));
  std::fprintf(stderr, "usage: %s threads N FILE | tree N FILE | busy SECONDS | spin SECONDS\n", argv[0]);
  return 2;
}
