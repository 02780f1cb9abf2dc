// SPDX-License-Identifier: MIT
#include "host.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace cgtest {
namespace {

std::atomic<int> g_teardown_failures{0};
std::atomic<int> g_counter{0};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

struct MountLine {
  std::string point, fstype;
  std::vector<std::string> super_options;
};

std::vector<MountLine> mounts() {
  std::vector<MountLine> out;
  for (const auto& line : split_lines(read_text("/proc/self/mountinfo").value_or(""))) {
    auto f = split(line, ' ');
    MountLine m;
    if (f.size() > 4) m.point = f[4];
    for (size_t i = 5; i + 1 < f.size(); ++i) {
      if (f[i] != "-") continue;
      m.fstype = f[i + 1];
      if (i + 3 < f.size()) m.super_options = split(f[i + 3], ',');
      break;
    }
    out.push_back(m);
  }
  return out;
}

// "key value" lines (cgroup.events).
long keyed(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  long v;
  while (in >> k >> v)
    if (k == key) return v;
  return -1;
}

std::vector<std::string> bottom_up(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.is_directory(ec) && !e.is_symlink(ec)) {
      auto sub = bottom_up(e.path().string());
      out.insert(out.end(), sub.begin(), sub.end());
    }
  out.push_back(path);
  return out;
}

bool populated(const std::string& path) {
  auto events = read_text(path + "/cgroup.events");
  return events && keyed(*events, "populated") == 1;
}

bool write_quiet(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// Without cgroup.kill (kernels before 5.14): freeze, SIGKILL every pid, thaw.
void freeze_and_kill(const std::string& path) {
  write_quiet(path + "/cgroup.freeze", "1");
  eventually([&] { return keyed(read_text(path + "/cgroup.events").value_or(""), "frozen") == 1; }, 1s);
  for (const auto& dir : bottom_up(path))
    for (pid_t pid : read_pids(dir + "/cgroup.procs")) ::kill(pid, SIGKILL);
  write_quiet(path + "/cgroup.freeze", "0");
}

}  // namespace

std::string cgroup2_mount() {
  std::string fallback;
  for (const auto& m : mounts()) {
    if (m.fstype != "cgroup2") continue;
    if (m.point == "/sys/fs/cgroup" || m.point == "/sys/fs/cgroup/unified") return m.point;
    if (fallback.empty()) fallback = m.point;
  }
  return fallback;
}

std::string v1_mount(const std::string& controller) {
  for (const auto& m : mounts()) {
    if (m.fstype != "cgroup") continue;
    for (const auto& o : m.super_options)
      if (o == controller) return m.point;
  }
  return "";
}

std::vector<std::string> cgroup_mounts() {
  std::vector<std::string> out;
  for (const auto& m : mounts())
    if (m.fstype == "cgroup" || m.fstype == "cgroup2") out.push_back(m.point);
  return out;
}

std::string unique_name() {
  return std::string(kPrefix) + std::to_string(::getpid()) + "-" + std::to_string(++g_counter);
}

int teardown_failures() {
  return g_teardown_failures.load();
}

void note_teardown_failure(const std::string& what) {
  ++g_teardown_failures;
  std::cerr << "\n*** TEARDOWN FAILED: " << what << "\n" << std::endl;
}

bool kill_and_remove(const std::string& path, std::chrono::milliseconds timeout) {
  if (!exists(path)) return true;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (populated(path)) {
      if (exists(path + "/cgroup.kill"))
        write_quiet(path + "/cgroup.kill", "1");
      else
        freeze_and_kill(path);
      eventually([&] { return !populated(path); }, std::chrono::milliseconds(200));
    }
    bool removed = true;
    for (const auto& dir : bottom_up(path))
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) removed = false;
    if (removed) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TestParent::TestParent() {
  if (::geteuid() != 0)
    throw std::runtime_error("the host tests need root (they create cgroups); run them as root");
  std::string mount = cgroup2_mount();
  if (mount.empty()) throw std::runtime_error("no cgroup2 mounted on this host: the host tests need one");
  path_ = mount + "/" + unique_name();
  if (::mkdir(path_.c_str(), 0755) != 0)
    throw std::runtime_error("cannot create the test's parent cgroup " + path_ + ": " + std::strerror(errno));
}

TestParent::~TestParent() {
  if (!kill_and_remove(path_)) note_teardown_failure("could not kill and remove " + path_);
}

std::string TestParent::relative() const {
  return path_.substr(cgroup2_mount().size());
}

void TestParent::hand_down(const std::string& controller) const {
  std::ofstream out(path_ + "/cgroup.subtree_control");
  out << "+" << controller << std::flush;
  if (!out)
    throw std::runtime_error("cannot enable " + controller + " in " + path_ + "/cgroup.subtree_control");
}

std::vector<std::string> TestParent::children() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path_, ec))
    if (e.is_directory(ec)) out.push_back(e.path().filename().string());
  return out;
}

TempDir::TempDir() {
  std::string templ = "/tmp/" + std::string(kPrefix) + std::to_string(::getpid()) + "-XXXXXX";
  if (!::mkdtemp(templ.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::optional<std::string> read_text(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void write_text(const std::string& path, const std::string& text, unsigned mode) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  ::chmod(path.c_str(), mode);
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

std::vector<std::string> split_lines(const std::string& text) {
  return split(text, '\n');
}

std::vector<pid_t> read_pids(const std::string& file) {
  std::vector<pid_t> out;
  for (const auto& line : split_lines(read_text(file).value_or(""))) {
    char* end = nullptr;
    long v = std::strtol(line.c_str(), &end, 10);
    if (end != line.c_str() && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  return out;
}

bool wait_for_lines(const std::string& file, size_t lines, std::chrono::milliseconds timeout) {
  return eventually([&] { return read_pids(file).size() >= lines; }, timeout);
}

namespace {

struct Stat {
  std::string state;
  pid_t session = -1;
  unsigned long long start = 0;
};

std::optional<Stat> read_stat(pid_t pid) {
  auto text = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text->substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string w; in >> w;) f.push_back(w);
  Stat s;
  if (f.size() > 19) {
    s.state = f[0];
    s.session = static_cast<pid_t>(std::stol(f[3]));
    s.start = std::stoull(f[19]);
  }
  return s;
}

}  // namespace

std::vector<ProcessId> identify(const std::vector<pid_t>& pids) {
  std::vector<ProcessId> out;
  for (pid_t pid : pids) {
    auto s = read_stat(pid);
    out.push_back({pid, s ? s->start : 0});
  }
  return out;
}

bool is_gone(const ProcessId& p) {
  auto s = read_stat(p.pid);
  if (!s) return true;
  if (s->state == "Z" || s->state == "X" || s->state == "x") return true;
  return s->start != p.start;  // also when it was already gone when identified: a new process
}

std::vector<pid_t> still_alive(const std::vector<ProcessId>& processes, std::chrono::milliseconds timeout) {
  std::vector<pid_t> alive;
  eventually(
      [&] {
        alive.clear();
        for (const auto& p : processes)
          if (!is_gone(p)) alive.push_back(p.pid);
        return alive.empty();
      },
      timeout);
  return alive;
}

std::vector<pid_t> alive_below(const std::vector<pid_t>& pids, const std::string& cgroup_prefix,
                               std::chrono::milliseconds timeout) {
  std::vector<pid_t> alive;
  eventually(
      [&] {
        alive.clear();
        for (pid_t pid : pids) {
          auto s = read_stat(pid);
          if (!s || s->state == "Z" || s->state == "X" || s->state == "x") continue;
          if (cgroup_of(pid).rfind(cgroup_prefix, 0) == 0) alive.push_back(pid);
        }
        return alive.empty();
      },
      timeout);
  return alive;
}

std::string process_state(pid_t pid) {
  auto s = read_stat(pid);
  return s ? s->state : "";
}

std::vector<std::string> fd_targets(pid_t pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::string target = fs::read_symlink(fd.path(), ec).string();
    if (!ec) out.push_back(std::move(target));
  }
  return out;
}

pid_t session_of(pid_t pid) {
  auto s = read_stat(pid);
  return s ? s->session : -1;
}

bool wait_for_comm(pid_t pid, const std::string& comm, std::chrono::milliseconds timeout) {
  std::string path = "/proc/" + std::to_string(pid) + "/comm";
  return eventually([&] { return read_text(path).value_or("") == comm + "\n"; }, timeout);
}

std::string cgroup_of(pid_t pid) {
  for (const auto& line : split_lines(read_text("/proc/" + std::to_string(pid) + "/cgroup").value_or("")))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return "";
}

std::string built_program(const char* env_name) {
  const char* path = std::getenv(env_name);
  if (!path || !*path)
    throw std::runtime_error(std::string("$") + env_name + " is not set: run the tests through `meson test`");
  if (::access(path, X_OK) != 0)
    throw std::runtime_error(std::string("$") + env_name + "=" + path + " is not an executable");
  return path;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace cgtest
