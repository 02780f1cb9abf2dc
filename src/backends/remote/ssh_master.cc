// SPDX-License-Identifier: MIT
#include "backends/remote/ssh_master.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "backends/remote/master_users.hpp"
#include "backends/remote/mux_alive.hpp"
#include "backends/remote/mux_sessions.hpp"
#include "backends/remote/ssh_process.hpp"
#include "backends/remote/stray_master.hpp"
#include "cgspawn/error.hpp"
#include "cgspawn/parse.hpp"
#include "report/rows.hpp"
#include "util/crash_point.hpp"
#include "util/unique_fd.hpp"

namespace cgspawn::remote {
namespace {

// sun_path holds 107 bytes and a NUL. ssh binds its socket as "<path>.<16 random characters>"
// (OpenSSH's muxserver_listen) before it links <path> to it, and the pool adds up to "-k15" to
// the first master's path: a longer path goes to a private directory in /tmp. (It was 97,
// which left a ledger whose control path was 91 to 97 bytes long unable to start any master:
// "unix_listener: ... too long for Unix domain socket".)
constexpr size_t kMaxSocketPath = 107 - 17 - 4;

std::string hex64(const std::string& text) {
  unsigned long long h = 1469598103934665603ULL;  // FNV-1a: stable across runs and builds
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", h);
  return out;
}

std::string private_tmp_dir() {
  return "/tmp/cgspawn-ssh-" + std::to_string(::getuid());
}

void make_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw Error(ErrorKind::system, "cannot create " + dir + " for the ssh control socket");
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 077))
    throw Error(ErrorKind::system,
                dir + " is not a private directory of this user: refusing to put an ssh socket there");
}

std::string dir_of(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

// The master's lock: held while one is started, and while one is closed, so a spawn never
// takes up a master that is being closed. The lock file goes with the master; a waiter that
// then holds a lock on the removed file takes the lock again on the new one.
// `make_dir`: (re)create the private directory as needed, as a closer may remove it.
UniqueFd lock_master(const std::string& control_path, bool make_dir) {
  std::string path = control_path + ".lock";
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (make_dir) make_private_dir(dir_of(control_path));
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid() && make_dir && errno == ENOENT) continue;
    if (!fd.valid()) return fd;
    ::flock(fd.get(), LOCK_EX);
    struct stat held {
    }, now{};
    if (::fstat(fd.get(), &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev)
      return fd;
  }
  return UniqueFd();
}

// ssh removes its control socket as it exits, a moment after it stops answering there; a
// socket nobody listens on (its master was killed) is stale and is removed here, so the
// control directory can go too.
void remove_socket_when_unused(const std::string& control_path) {
  for (int i = 0; i < 100 && ::access(control_path.c_str(), F_OK) == 0; ++i) {
    if (nobody_listens(control_path)) {
      ::unlink(control_path.c_str());
      return;
    }
    ::usleep(10 * 1000);
  }
}

// No master answers on the socket: none runs, or one runs on whose socket is gone.
ResourceOutcome stray_master_row(const Resource& res, const std::vector<StoppedMaster>& strays,
                                 const SshTarget& target) {
  if (strays.empty()) return make_row(res, Outcome::already_gone, "no master answers on the control socket");
  std::string pids, left;
  for (const auto& m : strays) {
    pids += (pids.empty() ? "" : ", ") + std::to_string(m.pid);
    if (!m.gone) left += (left.empty() ? "" : ", ") + std::to_string(m.pid);
  }
  std::string what =
      "ssh master (pid " + pids + ") to " + target.display() + " ran on without its control socket: SIGTERM";
  return left.empty() ? make_row(res, Outcome::destroyed, what + ", exited")
                      : make_row(res, Outcome::failed, what + ", still running 2 s later (pid " + left + ")");
}

// The lock file (held by the caller), the holds file and the control directory, if nothing else
// is left in it.
void remove_lock_and_dir(const std::string& control_path) {
  remove_holds_file(control_path);
  ::unlink((control_path + ".lock").c_str());
  ::rmdir(dir_of(control_path).c_str());
}

// The master's lock for a close, taken even where the control directory is gone (made again,
// and removed with the lock): without it, a master another process started meanwhile, whose
// socket was not there yet, looked like a stray and was stopped (its `run` failed: "cannot
// connect"). Where the directory cannot be made (the ledger's own is gone), nobody can start a
// master there either, and the close goes on without the lock.
UniqueFd lock_for_close(const std::string& control_path) {
  if (UniqueFd lock = lock_master(control_path, false); lock.valid()) return lock;
  try {
    return lock_master(control_path, true);
  } catch (const Error&) {
    return UniqueFd();
  }
}

bool exited_ok(const SshOutput& r) {
  return r.status && WIFEXITED(*r.status) && WEXITSTATUS(*r.status) == 0;
}

}  // namespace

std::string control_path_for(const SshTarget& target, const std::string& ledger_dir) {
  std::string name = hex64(target.display() + "\n" + target.config);
  std::string dir = ledger_dir.empty() ? "" : ledger_dir + "/.ssh-mux";
  if (dir.empty() || dir.size() + 1 + name.size() > kMaxSocketPath) dir = private_tmp_dir();
  return dir + "/" + name;
}

std::string pooled_control_path(const std::string& first, int index) {
  return index == 0 ? first : first + "-" + std::to_string(index);
}

std::vector<PoolMaster> pool_by_load(const std::string& first) {
  std::map<std::string, std::size_t> sessions = mux_sessions(dir_of(first));
  std::vector<PoolMaster> running, free;
  for (int i = 0; i < kMasterPool; ++i) {
    std::string path = pooled_control_path(first, i);
    auto it = sessions.find(path);
    if (it == sessions.end())
      free.push_back({path, std::nullopt});
    else
      running.push_back({path, it->second});
  }
  std::stable_sort(running.begin(), running.end(),
                   [](const PoolMaster& a, const PoolMaster& b) { return *a.sessions < *b.sessions; });
  running.insert(running.end(), free.begin(), free.end());
  return running;
}

std::optional<int> master_pid(const SshTarget& target, const std::string& control_path) {
  if (::access(control_path.c_str(), F_OK) != 0) return std::nullopt;
  MuxAlive asked = mux_alive(control_path, std::chrono::seconds(2));
  if (asked.answer == MuxAnswer::alive) return asked.pid;
  if (asked.answer == MuxAnswer::dead) return std::nullopt;
  // An answer this code does not know: ssh itself decides.
  SshOutput r =
      run_ssh(ssh_control_argv(target, control_path, "check"), Clock::now() + std::chrono::seconds(5));
  if (!exited_ok(r)) return std::nullopt;
  auto at = r.err.find("pid=");
  return at == std::string::npos ? 0 : std::atoi(r.err.c_str() + at + 4);
}

int ensure_master(const SshTarget& target, const std::string& control_path, MasterHold& hold, int persist) {
  UniqueFd lock = lock_master(control_path, true);  // one master per socket, however many spawns race
  if (!lock.valid())
    throw Error(ErrorKind::system, "cannot lock " + control_path + ".lock for the ssh master");
  if (auto pid = master_pid(target, control_path)) {
    hold = hold_master(control_path);
    return *pid;
  }
  // A master that was killed leaves its socket behind, and a new ssh -M would not replace it
  // (it runs on without multiplexing). Under the lock nobody else is making one.
  if (nobody_listens(control_path)) ::unlink(control_path.c_str());
  auto deadline = Clock::now() + std::chrono::seconds(kConnectTimeout + 15);
  SshOutput r = run_ssh(ssh_argv(target, Mux::master, control_path, "", persist), deadline);
  if (!exited_ok(r)) {
    remove_lock_and_dir(control_path);  // nothing is left of a start that could not connect
    std::string why = one_line(r.err);
    if (!r.status)
      why = "no answer within " + format_seconds(r.seconds) + (why.empty() ? "" : ": " + why);
    else if (why.empty())
      why = WIFSIGNALED(*r.status) ? "ssh was killed by signal " + std::to_string(WTERMSIG(*r.status))
                                   : "ssh exited with status " + std::to_string(WEXITSTATUS(*r.status));
    throw Error(ErrorKind::system, "cannot connect to " + target.display() + ": " + why);
  }
  if (auto pid = master_pid(target, control_path)) {
    hold = hold_master(control_path);
    return *pid;
  }
  remove_lock_and_dir(control_path);  // whatever else holds the path stays, and so its dir
  std::string stopped;
  for (const auto& m : stop_stray_masters(control_path))
    stopped += (stopped.empty() ? "" : ", ") + std::to_string(m.pid);
  throw Error(ErrorKind::system, "ssh to " + target.display() +
                                     " connected, but its master does not answer on " + control_path +
                                     (stopped.empty() ? "" : " (its ssh, pid " + stopped + ", was stopped)"));
}

ResourceOutcome close_master(const SshTarget& target, const std::string& control_path,
                             const MasterUsers& users) {
  auto started = Clock::now();
  Resource res{ResourceKind::ssh_master, control_path};
  ResourceOutcome row;
  std::optional<int> pid;
  crash_point("remote-master-close");
  UniqueFd lock = lock_for_close(control_path);
  crash_point("remote-master-close-locked");
  std::string users_named;
  // Checked first: the common case under load costs no ssh call.
  if (master_held_by_others(control_path, users, users_named)) {
    row = make_row(res, Outcome::kept, "still used by " + users_named);
  } else if (!(pid = master_pid(target, control_path))) {
    row = stray_master_row(res, stop_stray_masters(control_path), target);
  } else {
    SshOutput r =
        run_ssh(ssh_control_argv(target, control_path, "exit"), Clock::now() + std::chrono::seconds(5));
    bool gone = false;
    for (int i = 0; i < 40 && !gone; ++i) {  // the master exits just after answering
      gone = !master_pid(target, control_path);
      if (!gone) ::usleep(50 * 1000);
    }
    row = gone ? make_row(res, Outcome::destroyed,
                          "ssh master (pid " + std::to_string(*pid) + ") to " + target.display() + " closed")
               : make_row(res, Outcome::failed,
                          "ssh -O exit did not close the master (pid " + std::to_string(*pid) +
                              "): " + one_line(r.err));
  }
  if (row.outcome != Outcome::kept && row.outcome != Outcome::failed) {
    remove_socket_when_unused(control_path);
    remove_lock_and_dir(control_path);
  }
  row.seconds = seconds_between(started, Clock::now());
  return row;
}

}  // namespace cgspawn::remote
