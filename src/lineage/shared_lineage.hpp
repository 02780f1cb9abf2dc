// SPDX-License-Identifier: MIT
// SharedLineage: a supervisor's lineage, asked of its ledger's lineage server
// (lineage_server.hpp) over one connection. A thread reads the server's answers and the
// escapes it reports; requests go one at a time.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lineage/lineage.hpp"

namespace cgspawn {

class SharedLineage : public Lineage, public std::enable_shared_from_this<SharedLineage> {
 public:
  // Whether the ledger's directory can hold the server's socket (a unix socket's path is short).
  static bool can_share(const std::string& ledger_dir);

  // Connects, starting the server when none runs. Throws Error(unsupported) with the server's
  // reason when it cannot subscribe, Error(system) when it cannot be reached. Must live as long
  // as the process (its reader thread uses it).
  explicit SharedLineage(std::string ledger_dir);

  std::unique_ptr<LineageWatch> watch(pid_t main, const std::string& cgroup,
                                      std::function<void(const Escape&)> on_escape) override;

  // One request and its answer. A server that is gone is replaced once (each watched tree is
  // then marked incomplete); throws Error(system) when that fails too.
  nlohmann::json call(const nlohmann::json& request);

  void unwatch(pid_t main);
  // Why the tree of `main` may be incomplete on this side (the server was lost meanwhile).
  std::string lost_here(pid_t main);

  struct Connection;

 private:
  struct Watched {
    std::string cgroup;
    std::function<void(const Escape&)> on_escape;
    std::vector<Escape> escapes;  // reported so far: watched again by a server that takes over
    std::string lost;
  };

  void open_connection();
  std::vector<nlohmann::json> mark_watched_lost();
  void on_escape(pid_t main, const Escape& escape);

  std::string dir_;
  std::mutex call_mutex_;  // one request at a time; held across a reconnection
  std::shared_ptr<Connection> connection_;
  std::mutex watched_mutex_;
  std::map<pid_t, Watched> watched_;
};

}  // namespace cgspawn
