// SPDX-License-Identifier: MIT
#include "lineage/lineage.hpp"

#include <poll.h>
#include <unistd.h>

#include <mutex>
#include <string_view>
#include <thread>

#include "cgroup/hierarchy.hpp"
#include "cgspawn/error.hpp"
#include "lineage/lineage_tracker.hpp"
#include "lineage/shared_lineage.hpp"
#include "util/file_io.hpp"
#include "util/text_items.hpp"

namespace cgspawn {

const char* const kLostEventsNote =
    "the kernel dropped process events (a fork storm filled the buffer): processes that left the task cgroup "
    "may be missed";

std::string cgroup_of(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return "";
  std::size_t at = text->rfind("0::");
  if (at == std::string::npos || (at != 0 && (*text)[at - 1] != '\n')) return "";
  std::size_t end = text->find('\n', at);
  std::string cgroup = text->substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
  // A process that died keeps naming its cgroup, with this suffix once the cgroup is removed
  // (only the dead can be in a removed cgroup). It was in that cgroup: read with the suffix, an
  // exec event handled after the task's destroy made it an escape from it.
  constexpr std::string_view kDeleted = " (deleted)";
  if (cgroup.size() > kDeleted.size() &&
      cgroup.compare(cgroup.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
    cgroup.resize(cgroup.size() - kDeleted.size());
  return cgroup;
}

std::string cgroup_relative(const std::string& absolute) {
  static const std::string mount = discover_hierarchy().mount;
  if (absolute.empty() || absolute.rfind(mount, 0) != 0) return "";
  std::string rel = absolute.substr(mount.size());
  return rel.empty() ? "/" : rel;
}

bool inside(const std::string& cgroup, const std::string& task_cgroup) {
  if (cgroup.rfind(task_cgroup, 0) != 0) return false;
  return cgroup.size() == task_cgroup.size() || cgroup[task_cgroup.size()] == '/';
}

namespace {

// Whether the root cgroup's cgroup.procs lists `pid` (true when it cannot be read: then the
// process is taken at its word, as before this check).
bool listed_in_root(pid_t pid) {
  auto procs = read_file(discover_mounts().mount + "/cgroup.procs");
  if (!procs) return true;
  std::string line = std::to_string(pid);
  for (std::string_view rest = *procs; !rest.empty();)
    if (take_item(rest, '\n') == line) return true;
  return false;
}

}  // namespace

// The kernel sends a fork's event before it places the child in its parent's cgroup
// (copy_process: proc_fork_connector, then cgroup_post_fork). Until then /proc/PID/cgroup
// names the root cgroup, and no cgroup.procs lists the child. The lineage server may read the
// event and the child's cgroup in between (under load it did: a task's `sh` forking its
// `sleep &` was recorded as an escape to "/"), so a process named in the root is an escape
// only if the root's cgroup.procs lists it. (A zombie is listed nowhere either; it is no
// leftover.)
std::string escaped_to(pid_t pid, const std::string& task_cgroup) {
  std::string now = cgroup_of(pid);
  if (now.empty() || inside(now, task_cgroup)) return "";
  if (now == "/" && !listed_in_root(pid)) return "";
  return now;
}

namespace {

// This process's own subscription, read by a thread of its own.
class LocalLineage : public Lineage, public std::enable_shared_from_this<LocalLineage> {
 public:
  LocalLineage() : tracker_(std::make_unique<ProcEvents>()) { tracker_.add_parent(::getpid()); }

  void start() {
    std::thread([self = shared_from_this()] { self->run(); }).detach();
  }

  std::unique_ptr<LineageWatch> watch(pid_t main, const std::string& cgroup,
                                      std::function<void(const Escape&)> on_escape) override;

  template <typename F>
  auto locked(F&& f) {
    std::lock_guard lock(mutex_);
    tracker_.drain();
    return f(tracker_);
  }

 private:
  void run() {
    for (;;) {
      pollfd p{tracker_.fd(), POLLIN, 0};
      if (::poll(&p, 1, -1) < 0) continue;
      std::lock_guard lock(mutex_);
      tracker_.drain();
    }
  }

  std::mutex mutex_;
  LineageTracker tracker_;
};

class LocalWatch : public LineageWatch {
 public:
  LocalWatch(std::shared_ptr<LocalLineage> lineage, pid_t main) : lineage_(std::move(lineage)), main_(main) {}
  ~LocalWatch() override {
    lineage_->locked([this](LineageTracker& t) {
      t.unwatch(main_);
      return 0;
    });
  }
  std::vector<pid_t> live() const override {
    return lineage_->locked([this](LineageTracker& t) { return t.live(main_); });
  }
  std::vector<pid_t> ever() const override {
    return lineage_->locked([this](LineageTracker& t) { return t.ever(main_); });
  }
  std::string incomplete() const override {
    bool lost = lineage_->locked([this](LineageTracker& t) { return t.lost(main_); });
    return lost ? kLostEventsNote : "";
  }

 private:
  std::shared_ptr<LocalLineage> lineage_;
  pid_t main_;
};

std::unique_ptr<LineageWatch> LocalLineage::watch(pid_t main, const std::string& cgroup,
                                                  std::function<void(const Escape&)> on_escape) {
  locked([&](LineageTracker& t) {
    t.watch(main, cgroup, std::move(on_escape));
    return 0;
  });
  return std::make_unique<LocalWatch>(shared_from_this(), main);
}

std::mutex selection_mutex;
std::string shared_ledger;  // share_through()'s ledger, empty: a subscription of our own

}  // namespace

void Lineage::share_through(const std::string& ledger_dir) {
  std::lock_guard lock(selection_mutex);
  shared_ledger = ::geteuid() == 0 && SharedLineage::can_share(ledger_dir) ? ledger_dir : "";
}

Lineage* Lineage::get(std::string* why) {
  // One per process: a forked child (the supervisor) has no thread of its parent's, so it
  // subscribes anew. The old one is left as it is: its thread lives in the parent only.
  // Never deleted (nor unsubscribed: a child's copy of the socket is its parent's too).
  static std::shared_ptr<Lineage>* tracker = nullptr;
  static pid_t owner = 0;
  static std::string refused;
  std::lock_guard lock(selection_mutex);
  if (owner != ::getpid()) {
    owner = ::getpid();
    tracker = nullptr;
    refused.clear();
    try {
      if (!shared_ledger.empty()) {
        tracker = new std::shared_ptr<Lineage>(std::make_shared<SharedLineage>(shared_ledger));
      } else {
        auto local = std::make_shared<LocalLineage>();
        local->start();
        tracker = new std::shared_ptr<Lineage>(local);
      }
    } catch (const Error& e) {
      refused = e.what();
    }
  }
  if (!tracker && why) *why = refused;
  return tracker ? tracker->get() : nullptr;
}

Capability lineage_capability() {
  std::string why;
  if (!Lineage::get(&why)) return {false, "processes that leave the task cgroup are not found: " + why};
  return {true,
          "the kernel's process events connector: descendants found outside the task cgroup are killed "
          "and reported (escaped-process), SysV IPC its processes made is removed (ipc)"};
}

}  // namespace cgspawn
