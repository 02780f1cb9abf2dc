// SPDX-License-Identifier: MIT
#include "lineage/shared_lineage.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>

#include "cgspawn/error.hpp"
#include "launch/detached.hpp"
#include "lineage/lineage_channel.hpp"
#include "util/deadline.hpp"
#include "util/lock_file.hpp"
#include "util/proc_info.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {

struct SharedLineage::Connection {
  UniqueFd fd;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<nlohmann::json> answers;
  std::size_t unawaited = 0;  // answers still to come to requests sent without waiting (post())
  bool closed = false;
};

namespace {

constexpr auto kAnswerTimeout = std::chrono::seconds(10);  // a server that hangs is given up
constexpr auto kConnectTimeout = std::chrono::seconds(10);

sockaddr_un socket_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return addr;
}

UniqueFd unix_socket() {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw_sys("socket", errno);
  return fd;
}

// Starts the server when nobody holds its lock: binds its socket first, then hands it and the
// lock over. False when another holds the lock (a server runs, starts or ends).
bool start_server_if_none(const std::string& dir) {
  UniqueFd lock = try_lock_file(lineage_lock_path(dir));
  if (!lock.valid()) return false;
  std::string path = lineage_socket_path(dir);
  ::unlink(path.c_str());  // a crashed server's
  UniqueFd listening = unix_socket();
  sockaddr_un addr = socket_address(path);
  if (::bind(listening.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_sys("bind " + path, errno);
  ::chmod(path.c_str(), 0600);
  if (::listen(listening.get(), SOMAXCONN) != 0) throw_sys("listen " + path, errno);
  start_detached({"--lineage", dir}, {{lock.get(), 3}, {listening.get(), 4}});
  return true;
}

// The server's answer to `hello`, or nothing when it ended before answering.
std::optional<nlohmann::json> hello(int fd) {
  if (!send_message(fd, {{"op", "hello"}})) return std::nullopt;
  MessageReader reader;
  auto deadline = Clock::now() + kAnswerTimeout;
  for (;;) {
    if (auto answer = reader.next()) return answer;
    if (wait_readable(fd, deadline) != WaitResult::ready || !reader.read_some(fd)) return std::nullopt;
  }
}

// A connection to the ledger's server that said hello, starting the server when none runs.
UniqueFd connect_or_start(const std::string& dir) {
  std::string path = lineage_socket_path(dir);
  auto deadline = Clock::now() + kConnectTimeout;
  while (Clock::now() < deadline) {
    UniqueFd fd = unix_socket();
    sockaddr_un addr = socket_address(path);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      if (peer_uid(fd.get()) != ::geteuid())
        throw Error(ErrorKind::system, path + " is not served by this user: lineage is not asked of it");
      if (auto answer = hello(fd.get())) {
        if (answer->contains("error")) throw Error(ErrorKind::unsupported, answer->value("error", ""));
        return fd;
      }
      continue;  // it was ending: the next one is started or found
    }
    if (!start_server_if_none(dir)) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  throw Error(ErrorKind::system, "the lineage server of " + dir + " did not answer within " +
                                     std::to_string(kConnectTimeout.count()) + " s");
}

// Sends `request` and waits for its answer; nothing when the connection ended or hangs. The
// server answers in order: the answers to posted requests come first, and are dropped.
std::optional<nlohmann::json> exchange(SharedLineage::Connection& c, const nlohmann::json& request) {
  if (!send_message(c.fd.get(), request)) return std::nullopt;
  std::unique_lock lock(c.mutex);
  for (;;) {
    c.changed.wait_for(lock, kAnswerTimeout, [&] { return !c.answers.empty() || c.closed; });
    if (c.answers.empty()) return std::nullopt;
    nlohmann::json answer = std::move(c.answers.front());
    c.answers.pop_front();
    if (c.unawaited == 0) return answer;
    --c.unawaited;
  }
}

// Sends `request` without waiting for its answer (exchange() drops it when it comes).
void post(SharedLineage::Connection& c, const nlohmann::json& request) {
  std::lock_guard lock(c.mutex);
  if (send_message(c.fd.get(), request)) ++c.unawaited;
}

class SharedWatch : public LineageWatch {
 public:
  SharedWatch(std::shared_ptr<SharedLineage> lineage, pid_t main)
      : lineage_(std::move(lineage)), main_(main) {}
  ~SharedWatch() override { lineage_->unwatch(main_); }

  std::vector<pid_t> live() const override { return pids("live"); }
  std::vector<pid_t> ever() const override { return pids("ever"); }
  std::string incomplete() const override {
    if (std::string why = lineage_->lost_here(main_); !why.empty()) return why;
    try {
      return lineage_->call({{"op", "lost"}, {"main", main_}}).value("lost", false) ? kLostEventsNote : "";
    } catch (const Error& e) {
      return std::string("processes that left the task cgroup may be missed: ") + e.what();
    }
  }
  LineageState state() const override {
    nlohmann::json answer;
    try {
      answer = lineage_->call({{"op", "state"}, {"main", main_}});
    } catch (const Error&) {
      // A server gone (each of the three then says so), or one of a build before `state`.
      return LineageWatch::state();
    }
    std::string why = lineage_->lost_here(main_);
    if (why.empty() && answer.value("lost", false)) why = kLostEventsNote;
    return {answer.value("live", std::vector<pid_t>{}), answer.value("ever", std::vector<pid_t>{}), why};
  }

 private:
  std::vector<pid_t> pids(const char* op) const {
    try {
      return lineage_->call({{"op", op}, {"main", main_}}).value("pids", std::vector<pid_t>{});
    } catch (const Error&) {
      return {};  // incomplete() says why
    }
  }

  std::shared_ptr<SharedLineage> lineage_;
  pid_t main_;
};

}  // namespace

bool SharedLineage::can_share(const std::string& ledger_dir) {
  return lineage_socket_path(ledger_dir).size() < sizeof(sockaddr_un{}.sun_path);
}

SharedLineage::SharedLineage(std::string ledger_dir) : dir_(std::move(ledger_dir)) {
  open_connection();
}

void SharedLineage::open_connection() {
  auto c = std::make_shared<Connection>();
  c->fd = connect_or_start(dir_);
  connection_ = c;
  std::thread([c, this] {
    MessageReader reader;
    while (reader.read_some(c->fd.get())) {
      while (auto message = reader.next()) {
        if (message->contains("escape")) {
          on_escape(message->value("escape", 0),
                    {message->value("pid", 0), message->value("start_time", 0ULL), message->value("comm", ""),
                     message->value("cgroup", "")});
          continue;
        }
        std::lock_guard lock(c->mutex);
        c->answers.push_back(std::move(*message));
        c->changed.notify_all();
      }
    }
    std::lock_guard lock(c->mutex);
    c->closed = true;
    c->changed.notify_all();
  }).detach();
}

void SharedLineage::on_escape(pid_t main, const Escape& escape) {
  std::function<void(const Escape&)> report;
  {
    std::lock_guard lock(watched_mutex_);
    if (auto it = watched_.find(main); it != watched_.end()) {
      report = it->second.on_escape;
      it->second.escapes.push_back(escape);
    }
  }
  if (report) report(escape);
}

nlohmann::json SharedLineage::call(const nlohmann::json& request) {
  std::lock_guard lock(call_mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connection_) {
      open_connection();  // throws when no server can be had
      for (const auto& again : mark_watched_lost()) exchange(*connection_, again);
    }
    if (auto answer = exchange(*connection_, request)) {
      if (answer->contains("error")) throw Error(ErrorKind::system, answer->value("error", ""));
      return *answer;
    }
    ::shutdown(connection_->fd.get(), SHUT_RDWR);  // ends its reader, if it hangs
    connection_ = nullptr;
  }
  throw Error(ErrorKind::system, "the lineage server of " + dir_ + " did not answer");
}

// Each watched tree: its forks while no server ran were not seen. Returns the requests that
// watch them again, with the escaped processes found before (sent without the lock: the reader
// may be reporting an escape meanwhile).
std::vector<nlohmann::json> SharedLineage::mark_watched_lost() {
  std::vector<nlohmann::json> out;
  std::lock_guard lock(watched_mutex_);
  for (auto& [main, watched] : watched_) {
    watched.lost =
        "the ledger's lineage server ended while the task ran (another took over): processes that left "
        "the task cgroup before may be missed";
    std::vector<pid_t> escaped;
    for (const auto& e : watched.escapes)
      if (process_start_time(e.pid) == e.start_time) escaped.push_back(e.pid);  // the same process
    out.push_back({{"op", "watch"}, {"main", main}, {"cgroup", watched.cgroup}, {"escaped", escaped}});
  }
  return out;
}

std::unique_ptr<LineageWatch> SharedLineage::watch(pid_t main, const std::string& cgroup,
                                                   std::function<void(const Escape&)> on_escape) {
  {
    std::lock_guard lock(watched_mutex_);
    watched_[main] = {cgroup, std::move(on_escape), {}, ""};
  }
  try {
    call({{"op", "watch"}, {"main", main}, {"cgroup", cgroup}});
  } catch (const Error& e) {
    std::lock_guard lock(watched_mutex_);
    watched_[main].lost = std::string("processes that left the task cgroup were not looked for: ") + e.what();
  }
  return std::make_unique<SharedWatch>(shared_from_this(), main);
}

// Not waited for: the server forgets the tree either way (also when we go), and a supervisor
// unwatches right before it exits.
void SharedLineage::unwatch(pid_t main) {
  {
    std::lock_guard lock(call_mutex_);
    if (connection_) post(*connection_, {{"op", "unwatch"}, {"main", main}});
  }
  std::lock_guard lock(watched_mutex_);
  watched_.erase(main);
}

std::string SharedLineage::lost_here(pid_t main) {
  std::lock_guard lock(watched_mutex_);
  auto it = watched_.find(main);
  return it == watched_.end() ? "" : it->second.lost;
}

}  // namespace cgspawn
