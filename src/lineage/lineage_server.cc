// SPDX-License-Identifier: MIT
#include "lineage/lineage_server.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <unordered_map>

#include "cgspawn/error.hpp"
#include "lineage/lineage_channel.hpp"
#include "lineage/lineage_tracker.hpp"
#include "util/deadline.hpp"

namespace cgspawn {
namespace {

constexpr auto kFirstClient = std::chrono::seconds(3);  // how long a server nobody connects to waits

class LineageServer {
 public:
  LineageServer(int listen_fd) : listen_(listen_fd), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    try {
      tracker_ = std::make_unique<LineageTracker>(std::make_unique<ProcEvents>());
      watch_fd(tracker_->fd());
    } catch (const Error& e) {
      refused_ = e.what();  // each client is told, and falls back to no lineage
    }
    watch_fd(listen_fd);
  }

  // Returns when no client is left.
  void run() {
    epoll_event ready[64];
    // The starter is connected (queued) before the server runs; one that died first is waited
    // for only so long, however busy the host's events keep the loop.
    auto first_client_by = Clock::now() + kFirstClient;
    for (;;) {
      int n = ::epoll_wait(epoll_.get(), ready, 64, served_ ? -1 : 1000);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || (!served_ && Clock::now() > first_client_by)) return;
      // Connections are taken after the batch: a dropped client's fd number, reused by a new
      // connection, must not receive the rest of the batch's events for the old one.
      bool connecting = false;
      for (int i = 0; i < n; ++i) connecting |= !on_ready(ready[i].data.fd);
      if (connecting) accept_all();
      if (served_ && clients_.empty() && !accept_all()) return;
    }
  }

 private:
  struct Client {
    UniqueFd fd;
    pid_t pid = 0;
    MessageReader reader;
    std::set<pid_t> roots;
  };

  void watch_fd(int fd) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &e);
  }

  // False for the listening socket, left to the caller.
  bool on_ready(int fd) {
    if (fd == listen_) return false;
    if (tracker_ && fd == tracker_->fd())
      tracker_->drain();
    else if (auto it = clients_.find(fd); it != clients_.end())
      serve(it->second);
    return true;
  }

  // Takes every pending connection of our own user. Returns whether there was one.
  bool accept_all() {
    bool any = false;
    for (int fd; (fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
      Client client;
      client.fd.reset(fd);
      if (peer_uid(fd, &client.pid) != ::geteuid()) continue;
      watch_fd(fd);
      clients_.emplace(fd, std::move(client));
      served_ = any = true;
    }
    return any;
  }

  void serve(Client& client) {
    if (!client.reader.read_some(client.fd.get())) return drop(client);
    while (auto request = client.reader.next())
      if (!send_message(client.fd.get(), answer(client, *request))) return drop(client);
  }

  nlohmann::json answer(Client& client, const nlohmann::json& request) {
    std::string op = request.value("op", "");
    pid_t main = request.value("main", 0);
    if (!tracker_) return {{"error", refused_}};
    tracker_->drain();
    if (op == "hello") {
      tracker_->add_parent(client.pid);
    } else if (op == "watch") {
      int fd = client.fd.get();
      tracker_->watch(
          main, request.value("cgroup", ""),
          [fd, main](const Escape& e) {
            send_message(fd, {{"escape", main},
                              {"pid", e.pid},
                              {"start_time", e.start_time},
                              {"comm", e.comm},
                              {"cgroup", e.cgroup}});
          },
          request.value("escaped", std::vector<pid_t>{}));
      client.roots.insert(main);
    } else if (op == "live") {
      return {{"pids", tracker_->live(main)}};
    } else if (op == "ever") {
      return {{"pids", tracker_->ever(main)}};
    } else if (op == "lost") {
      return {{"lost", tracker_->lost(main)}};
    } else if (op == "state") {  // the three above at once
      return {{"live", tracker_->live(main)}, {"ever", tracker_->ever(main)}, {"lost", tracker_->lost(main)}};
    } else if (op == "unwatch") {
      tracker_->unwatch(main);
      client.roots.erase(main);
    } else {
      return {{"error", "unknown request " + op}};
    }
    return {{"ok", true}};
  }

  void drop(Client& client) {
    if (tracker_) {
      for (pid_t root : client.roots) tracker_->unwatch(root);
      tracker_->drop_parent(client.pid);
    }
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, client.fd.get(), nullptr);
    clients_.erase(client.fd.get());
  }

  int listen_;
  UniqueFd epoll_;
  std::unique_ptr<LineageTracker> tracker_;
  std::string refused_;
  std::unordered_map<int, Client> clients_;
  bool served_ = false;
};

}  // namespace

int run_lineage_server(const std::string& ledger_dir, int lock_fd, int listen_fd) {
  LineageServer(listen_fd).run();
  // Unlinked while the lock is held: a starter binds anew only once it holds the lock (and
  // checks it locked the file its path names now). Nothing of the server stays in the ledger.
  ::unlink(lineage_socket_path(ledger_dir).c_str());
  ::unlink(lineage_lock_path(ledger_dir).c_str());
  ::close(listen_fd);
  ::close(lock_fd);
  return 0;
}

}  // namespace cgspawn
