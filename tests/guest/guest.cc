// SPDX-License-Identifier: MIT
#include "guest.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace cgguest {
namespace {
std::atomic<int> g_counter{0};
}

std::string delegated() {
  const char* d = std::getenv("CGTEST_DELEGATED_CGROUP");
  return d ? d : "";
}

std::string unique_name() {
  return std::string(kPrefix) + std::to_string(::getpid()) + "-" + std::to_string(++g_counter);
}

std::chrono::milliseconds scaled(std::chrono::milliseconds base) {
  double scale = 1;
  if (const char* s = std::getenv("CGSPAWN_GUEST_TIMEOUT_SCALE"); s && *s) scale = std::atof(s);
  if (scale <= 0) scale = 1;
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(base.count()) * scale));
}

GuestParent::GuestParent() {
  if (delegated().empty())
    throw std::runtime_error(
        "$CGTEST_DELEGATED_CGROUP is not set: run this inside the guest "
        "(tests/guest/run-guest-suite.sh)");
  path_ = delegated() + "/" + unique_name();
}

GuestParent::~GuestParent() {
  if (!cgtest::kill_and_remove(path_, scaled(30s)))
    cgtest::note_teardown_failure("could not kill and remove " + path_);
}

std::string GuestParent::relative() const {
  return path_.substr(std::string("/sys/fs/cgroup").size());
}

std::vector<std::string> GuestParent::children() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(path_, ec))
    if (e.is_directory(ec)) out.push_back(e.path().filename().string());
  return out;
}

std::string first_line(const std::string& path) {
  std::string text = cgtest::read_text(path).value_or("");
  return text.substr(0, text.find('\n'));
}

long long keyed(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string k;
    long long v;
    if (words >> k >> v && k == key) return v;
  }
  return -1;
}

nlohmann::json read_json(const std::string& path) {
  auto text = cgtest::read_text(path);
  if (!text) throw std::runtime_error("no file " + path);
  return nlohmann::json::parse(*text);
}

std::string guest_helper() {
  return cgtest::built_program("CGSPAWN_GUEST_HELPER");
}

}  // namespace cgguest
