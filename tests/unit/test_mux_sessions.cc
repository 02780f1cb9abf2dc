// SPDX-License-Identifier: MIT
// mux_sessions (src/backends/remote/mux_sessions.hpp) against real sockets: each listening
// control socket of a pool's directory with its connected clients, as /proc/net/unix lists them.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "backends/remote/mux_sessions.hpp"
#include "util/unique_fd.hpp"

namespace {

using cgspawn::UniqueFd;

sockaddr_un address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof a.sun_path);
  path.copy(a.sun_path, path.size());
  return a;
}

UniqueFd listening(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a = address(path);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd.get(), 16) == 0);
  return fd;
}

// A client connected to `path`, and the listener's side of it, accepted.
void connect_to(const std::string& path, int listener, std::vector<UniqueFd>& held) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a = address(path);
  REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  held.push_back(std::move(fd));
  held.emplace_back(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(held.back().valid());
}

struct RemovedAtEnd {
  std::string dir;
  ~RemovedAtEnd() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("mux_sessions: each master's connected sessions, under ssh's bound name or its own") {
  char templ[] = "/tmp/cgspawn-mux sessions-XXXXXX";  // a space: names are read to the line's end
  REQUIRE(::mkdtemp(templ) != nullptr);
  RemovedAtEnd removed{templ};
  std::string dir = templ, other = dir + "/other";
  std::filesystem::create_directory(other);
  {
    // ssh binds "<path>.<16 characters>" and links <path> to it; a listener may also be bound
    // under its own name.
    UniqueFd first = listening(dir + "/c0ffee.ABCDEFGHIJKLMNOP");
    UniqueFd second = listening(dir + "/c0ffee-1");
    UniqueFd elsewhere = listening(other + "/c0ffee");
    std::vector<UniqueFd> held;
    for (int i = 0; i < 3; ++i) connect_to(dir + "/c0ffee.ABCDEFGHIJKLMNOP", first.get(), held);
    connect_to(other + "/c0ffee", elsewhere.get(), held);

    std::map<std::string, std::size_t> expected = {{dir + "/c0ffee", 3}, {dir + "/c0ffee-1", 0}};
    CHECK(cgspawn::remote::mux_sessions(dir) == expected);
    held.clear();  // the clients gone: none counted
    expected[dir + "/c0ffee"] = 0;
    CHECK(cgspawn::remote::mux_sessions(dir) == expected);
  }
}
