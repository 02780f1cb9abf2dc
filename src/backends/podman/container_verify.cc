// SPDX-License-Identifier: MIT
#include "backends/podman/container_verify.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "backends/podman/podman_cli.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/destroy.hpp"
#include "cgroup/events.hpp"
#include "cgroup/usage.hpp"
#include "cgspawn/error.hpp"
#include "report/rows.hpp"
#include "util/deadline.hpp"
#include "util/pidfd.hpp"
#include "util/proc_info.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

using namespace std::chrono_literals;

// podman's -t takes whole seconds: round the grace up, so the task gets at least what it asked.
std::string grace_seconds(Duration grace) {
  return std::to_string(std::chrono::ceil<std::chrono::seconds>(grace).count());
}

std::chrono::milliseconds podman_timeout(const DestroyOptions& options) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(options.grace + options.verify_timeout) + 30s;
}

// 1 = gone, 0 = still known, -1 = podman could not say (its words in `why`).
int container_gone(const ContainerRef& ref, std::string& why) {
  PodmanOutput out = run_podman({"container", "exists", ref.target()});
  if (out.exit_code == 0) return 0;
  if (out.exit_code == 1) return 1;
  why = "podman container exists: " + out.error_text();
  return -1;
}

std::vector<std::string> v1_mounts() {
  std::vector<std::string> out;
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream in(line);
    std::string source, target, type;
    in >> source >> target >> type;
    if (type == "cgroup") out.push_back(target);
  }
  return out;
}

// The container's own cgroup2 node, emptied and removed; the fallback when podman failed.
ResourceOutcome empty_task_cgroup(const ContainerRef& ref, const DestroyOptions& options, bool podman_ok,
                                  Usage& usage) {
  if (ref.task_cgroup.empty() || ::access(ref.task_cgroup.c_str(), F_OK) != 0)
    return make_row({ResourceKind::cgroup, ref.task_cgroup}, Outcome::already_gone,
                    "the cgroup was never created or removed before cgspawn acted");
  try {
    Cgroup cg = Cgroup::open(ref.task_cgroup);
    // podman's kill is asynchronous: give a successful podman a moment before calling it a liar.
    if (podman_ok) wait_until_empty(cg, Clock::now() + 2s);
    DestroyOptions kill_now = options;
    kill_now.grace = Duration::zero();  // podman already had the grace period
    return destroy_cgroup(cg, kill_now, [&usage](const Cgroup& c) { usage = read_usage(c); }).row;
  } catch (const Error& e) {
    return make_row({ResourceKind::cgroup, ref.task_cgroup}, Outcome::failed, e.what());
  }
}

std::string describe_fallback(const ResourceOutcome& cgroup_row) {
  if (cgroup_row.killed_total == 0) return "";
  return "its cgroup " + cgroup_row.resource.id +
         (cgroup_row.outcome == Outcome::destroyed ? " was" : " was not") + " emptied with cgroup.kill (" +
         std::to_string(cgroup_row.killed_total) + " process(es) killed)";
}

ResourceOutcome container_row(const ContainerRef& ref, const PodmanOutput& podman, int gone,
                              const std::string& why, const ResourceOutcome& cgroup_row) {
  ResourceOutcome row = make_row({ResourceKind::container, ref.target()}, Outcome::destroyed, "");
  std::vector<std::string> notes;
  if (!podman.ok())
    notes.push_back("podman failed to " + std::string(ref.keep ? "stop" : "destroy") + " container " +
                    ref.target() + ": " + podman.error_text());
  else if (cgroup_row.killed_total > 0)
    notes.push_back("podman reported container " + ref.target() + " " + (ref.keep ? "stopped" : "removed") +
                    " while processes still ran in it");
  if (auto f = describe_fallback(cgroup_row); !f.empty()) notes.push_back(f);
  if (gone < 0) {
    row.outcome = Outcome::not_guaranteed;
    notes.push_back(why);
  } else if (ref.keep) {
    row.outcome = gone ? Outcome::failed : Outcome::kept;
    notes.insert(notes.begin(), gone ? "was to be kept, but podman no longer knows it" : "kept by request");
  } else {
    row.outcome = gone ? Outcome::destroyed : Outcome::failed;
    if (!notes.empty() || !gone)
      notes.push_back(std::string("container record removed: ") + (gone ? "yes" : "no"));
  }
  for (const auto& n : notes) row.detail += (row.detail.empty() ? "" : "; ") + n;
  return row;
}

}  // namespace

ResourceOutcome finish_conmon(int pid, unsigned long long start_time, const DestroyOptions& options,
                              bool container_empty) {
  auto begin = Clock::now();
  Resource res{ResourceKind::conmon, pid > 0 ? std::to_string(pid) : "(not started)"};
  if (pid <= 0) return make_row(res, Outcome::already_gone, "conmon was never started");
  // Its end is its pidfd's (an exited conmon left unreaped counts as gone), not a poll of /proc.
  UniqueFd conmon = open_pinned_pidfd(pid, start_time);
  auto gone_by = [&conmon](Clock::time_point deadline) {
    return !conmon.valid() || wait_readable(conmon.get(), deadline) == WaitResult::ready;
  };
  bool gone =
      gone_by(begin + (container_empty ? std::min<Duration>(options.verify_timeout, 5s) : Duration(1s)));
  ResourceOutcome row = make_row(res, Outcome::destroyed, "");
  if (container_empty && !gone) {
    // Its container is gone (or emptied): a conmon that lingers only holds podman's state.
    row.killed.push_back(describe_process(pid));
    row.killed_total = 1;
    signal_pidfd(conmon.get(), SIGKILL);
    gone = gone_by(Clock::now() + 2s);
    row.detail = "conmon outlived its container: killed";
  }
  if (!gone) {
    row.outcome = Outcome::failed;
    row.survivors.push_back(describe_survivor(pid));
    row.detail = "conmon " + std::to_string(pid) + " still runs" +
                 (container_empty ? "" : ": its container still has processes, so it was left to watch them");
  }
  row.seconds = seconds_between(begin, Clock::now());
  return row;
}

std::string remove_v1_dirs(const std::string& cgroup_parent) {
  if (cgroup_parent.empty() || cgroup_parent == "/") return "";
  std::string left;
  auto deadline = Clock::now() + 2s;  // podman's cleanup process may still sit in <parent>/conmon
  for (const auto& mount : v1_mounts()) {
    std::filesystem::path top = mount + cgroup_parent;
    std::error_code ec;
    for (;;) {
      std::vector<std::string> dirs;
      for (auto it = std::filesystem::recursive_directory_iterator(top, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        if (it->is_directory(ec)) dirs.push_back(it->path().string());
      std::sort(dirs.begin(), dirs.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
      dirs.push_back(top.string());
      int err = 0;
      std::string failed;
      for (const auto& d : dirs)
        if (::rmdir(d.c_str()) != 0 && errno != ENOENT && !err) {
          err = errno;
          failed = d;
        }
      if (!err) {
        // cgspawn's own default parent (<v1>/cgspawn), as remove_own_parent does in cgroup2.
        if (top.parent_path().filename() == "cgspawn") ::rmdir(top.parent_path().c_str());
        break;
      }
      if (Clock::now() >= deadline) {
        left += (left.empty() ? "" : "; ") + sys_message("rmdir " + failed, err);
        break;
      }
      std::this_thread::sleep_for(20ms);
      ec.clear();
    }
  }
  return left;
}

ContainerCleanup destroy_container(const ContainerRef& ref, const DestroyOptions& options) {
  ContainerCleanup out;
  auto begin = Clock::now();
  PodmanOutput podman;
  try {
    std::vector<std::string> args =
        ref.keep ? std::vector<std::string>{"stop", "-t", grace_seconds(options.grace)}
                 : std::vector<std::string>{"rm", "-f", "-t", grace_seconds(options.grace)};
    args.push_back(ref.target());
    podman = run_podman(args, podman_timeout(options));
  } catch (const Error& e) {
    podman.err = std::string("Error: ") + e.what();  // podman is gone from PATH: the fallback still runs
  }
  out.cgroup = empty_task_cgroup(ref, options, podman.ok(), out.usage);
  // podman forgets a container on a second rm -f after a failed one, without calling the
  // runtime; its processes are dead by now, so that is what we want.
  bool emptied = out.cgroup.outcome != Outcome::failed;
  // Never while processes survive: podman would then forget a container that still runs.
  if (!podman.ok() && !ref.keep && emptied) {
    try {
      run_podman({"rm", "-f", "-t", "0", ref.target()}, podman_timeout(options));
    } catch (const Error&) {
    }
  }
  std::string why;
  int gone = -1;
  try {
    gone = container_gone(ref, why);
  } catch (const Error& e) {
    why = e.what();
  }
  out.container = container_row(ref, podman, gone, why, out.cgroup);
  out.container.seconds = seconds_between(begin, Clock::now());
  out.conmon = finish_conmon(ref.conmon_pid, ref.conmon_start, options, emptied);
  if (std::string left = remove_v1_dirs(ref.cgroup_parent); !left.empty()) {
    if (out.cgroup.outcome != Outcome::failed) out.cgroup.outcome = Outcome::failed;
    out.cgroup.detail +=
        (out.cgroup.detail.empty() ? "" : "; ") + std::string("v1 cgroup dirs left: ") + left;
  }
  return out;
}

}  // namespace cgspawn
