// SPDX-License-Identifier: MIT
#include "backends/podman/conmon_end.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <string_view>

#include "util/file_io.hpp"
#include "util/proc_info.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

// conmon's pidfd; when conmon has already gone, an fd that is readable at once.
UniqueFd conmon_exit_fd(const ContainerRef& ref) {
  if (UniqueFd fd = open_pinned_pidfd(ref.conmon_pid, ref.conmon_start); fd.valid()) return fd;
  UniqueFd ended(::eventfd(1, EFD_CLOEXEC));
  if (!ended.valid()) throw_sys("eventfd for the end of container " + ref.name, errno);
  return ended;
}

// conmon's --exit-dir, or empty when conmon (pid + start time) is gone or names none.
std::string exit_dir_of(const ContainerRef& ref) {
  if (ref.conmon_pid <= 0 || ref.id.empty()) return "";
  auto cmdline = read_file("/proc/" + std::to_string(ref.conmon_pid) + "/cmdline");
  // Compared after the read: a pid reused before it is not conmon's command line.
  if (!cmdline || process_start_time(ref.conmon_pid) != ref.conmon_start) return "";
  return exit_dir_in_cmdline(*cmdline);
}

// conmon writes the code in decimal, whole (the file is renamed into place).
std::optional<int> read_exit_code(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  std::string_view digits = *text;
  while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' ')) digits.remove_suffix(1);
  int code = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return code;
}

void add_to(int epoll, int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) throw_sys("epoll_ctl", errno);
}

}  // namespace

std::string exit_dir_in_cmdline(const std::string& cmdline) {
  std::string_view rest = cmdline;
  bool next_is_dir = false;
  while (!rest.empty()) {
    std::size_t end = rest.find('\0');
    std::string_view arg = rest.substr(0, end);
    if (next_is_dir) return std::string(arg);
    if (arg.rfind("--exit-dir=", 0) == 0) return std::string(arg.substr(11));
    next_is_dir = arg == "--exit-dir";
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  }
  return "";
}

ConmonEnd::ConmonEnd(const ContainerRef& ref)
    : conmon_(conmon_exit_fd(ref)),
      seen_(::eventfd(0, EFD_CLOEXEC)),
      any_(::epoll_create1(EPOLL_CLOEXEC)),
      dir_(exit_dir_of(ref)) {
  if (!seen_.valid() || !any_.valid()) throw_sys("the watch for the end of container " + ref.name, errno);
  add_to(any_.get(), conmon_.get());
  add_to(any_.get(), seen_.get());
  if (!dir_.empty()) path_ = dir_ + "/" + ref.id;
}

void ConmonEnd::check() {
  if (path_.empty() || code_.load(std::memory_order_acquire) != INT_MIN) return;
  std::optional<int> code = read_exit_code(path_);
  if (!code) return;
  code_.store(*code, std::memory_order_release);
  std::uint64_t one = 1;
  if (::write(seen_.get(), &one, sizeof one) < 0) {
  }  // an eventfd's counter does not fill up at 1
}

std::optional<int> ConmonEnd::exit_code() const {
  int code = code_.load(std::memory_order_acquire);
  if (code == INT_MIN) return std::nullopt;
  return code;
}

}  // namespace cgspawn
