// SPDX-License-Identifier: MIT
// Lineage (docs/backends.md): processes that leave the task cgroup are found by descent, killed
// and named; SysV IPC the task made is removed, and what cannot be tied to it is left;
// --on-leftovers; reap after the caller's SIGKILL.
// The processes escape into a cgroup of the test's own beside the task's (as into the root
// cgroup, but touching nothing the test did not make).
#include <doctest/doctest.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli.hpp"
#include "host.hpp"
#include "lineage/lineage.hpp"
#include "lineage/sysv_ipc.hpp"
#include "results.hpp"
#include "util/unique_fd.hpp"

using namespace cgtest;
using json = nlohmann::json;

namespace {

// A cgroup beside the task's, to escape into.
std::string escape_cgroup(const TestParent& parent) {
  std::string dir = parent.path() + "/elsewhere";
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

// sh: a child that moves itself to `to`, then runs BODY there (which ends in `exec sleep`); the
// main process goes on once the child's pid is in FILE and it runs sleep (before its exec it is a
// forked sh, and the report would name that).
std::string escaper(const std::string& to, const std::string& pids, const std::string& body) {
  return "sh -c 'echo $$ > " + to + "/cgroup.procs; echo $$ >> " + pids + "; " + body + "' & " +
         "while ! [ -s " + pids + " ]; do :; done; read p < " + pids +
         "; while [ \"$(cat /proc/$p/comm)\" != sleep ]; do :; done";
}

std::vector<ProcessId> pids_in(const std::string& file) {
  return identify(read_pids(file));
}

// The processes whose command line is `argv`.
std::vector<pid_t> running(const std::vector<std::string>& argv) {
  std::string want;
  for (const auto& word : argv) want += word + '\0';
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (read_text("/proc/" + name + "/cmdline").value_or("") == want) out.push_back(std::stoi(name));
  }
  return out;
}

std::vector<pid_t> lineage_servers(const std::string& state) {
  return running({"cgspawn-supervisor", "--lineage", state});
}

// How many sockets of the kernel's process events connector (netlink protocol 11) `pid` holds.
std::size_t connector_sockets(pid_t pid) {
  std::set<std::string> inodes;
  for (const auto& line : split_lines(read_text("/proc/net/netlink").value_or(""))) {
    std::istringstream fields(line);
    std::string sk, protocol, field, inode;
    fields >> sk >> protocol;
    for (int i = 0; i < 7; ++i) fields >> field;
    if (fields >> inode && protocol == "11") inodes.insert("socket:[" + inode + "]");
  }
  std::size_t n = 0;
  for (const auto& target : fd_targets(pid)) n += inodes.count(target);
  return n;
}

// Starts a task whose child escapes to `to` (its pid in `pids`); returns once the escape is
// recorded, which the task's lineage tracker does when it sees it.
void start_escaper(const std::string& state, const std::string& id, const TestParent& parent,
                   const std::string& to, const std::string& pids) {
  RunResult r = run_cgspawn({"start", "--parent", parent.path(), "--state-dir", state, "--id", id, "--", "sh",
                             "-c", escaper(to, pids, "exec sleep 1000") + "; exec sleep 1001"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  REQUIRE(eventually([&] { return exists(state + "/" + id + "/found"); }, 30s));
}

json destroyed(const std::string& state, const std::string& id) {
  RunResult d = run_cgspawn({"destroy", id, "--state-dir", state, "--grace", "0", "--json"});
  CAPTURE(d.out);
  CAPTURE(d.err);
  CHECK(d.exit_code == 0);
  return json::parse(d.out);
}

// SysV objects of the test's own, removed when it goes (an attached segment detached first).
struct OwnIpc {
  int msg = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  int sem = ::semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  int shm = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  void* attached = nullptr;  // a segment of the task's, attached here
  ~OwnIpc() {
    if (attached) ::shmdt(attached);
    ::msgctl(msg, IPC_RMID, nullptr);
    ::semctl(sem, 0, IPC_RMID);
    ::shmctl(shm, IPC_RMID, nullptr);
  }
};

// Whether SysV object `kind` ("shm", "sem", "msg") `id` exists (/proc/sysvipc/KIND).
bool ipc_exists(const std::string& kind, int id) {
  for (const auto& line : split_lines(read_text("/proc/sysvipc/" + kind).value_or(""))) {
    std::istringstream fields(line);
    std::string key, ipc_id;
    fields >> key >> ipc_id;
    if (ipc_id == std::to_string(id)) return true;
  }
  return false;
}

// Removes, when it goes, the SysV objects listed in `file` ("shm ID" lines, as the helper's
// `ipc` mode writes them): those a test left on purpose.
struct RemoveListed {
  std::string file;
  ~RemoveListed() {
    for (const auto& line : split_lines(read_text(file).value_or(""))) {
      int id = std::atoi(line.c_str() + 4);
      if (line.rfind("shm ", 0) == 0) ::shmctl(id, IPC_RMID, nullptr);
      if (line.rfind("sem ", 0) == 0) ::semctl(id, 0, IPC_RMID);
      if (line.rfind("msg ", 0) == 0) ::msgctl(id, IPC_RMID, nullptr);
    }
  }
};

constexpr uid_t kOtherUser = 65534;

// Makes this process uid and gid 65534, keeping CAP_DAC_OVERRIDE (so the ledger's 0700
// directory and the 0600 socket do not stop it first: only the peer check is left). For a
// forked child: raw system calls, as the test process has threads and the child only one.
bool become_other_user() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct caps[2]{};
  caps[0].effective = caps[0].permitted = 1u << CAP_DAC_OVERRIDE;
  return ::prctl(PR_SET_KEEPCAPS, 1) == 0 && ::syscall(SYS_setgroups, 0, nullptr) == 0 &&
         ::syscall(SYS_setresgid, kOtherUser, kOtherUser, kOtherUser) == 0 &&
         ::syscall(SYS_setresuid, kOtherUser, kOtherUser, kOtherUser) == 0 &&
         ::syscall(SYS_capset, &header, caps) == 0;
}

// Runs `body` in a child that became the other user; returns its exit code.
template <typename Body>
int as_other_user(Body body) {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(become_other_user() ? body() : 90);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  return addr;
}

// Says hello to the lineage server at `path`: 1 answered, 0 the connection closed unanswered,
// 2 neither within 5 s, 80+ it could not ask.
int hello_at(const std::string& path) {
  cgspawn::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = unix_address(path);
  if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 81;
  const char hello[] = "{\"op\":\"hello\"}\n";
  // A server that checks the peer at accept may close before the hello is sent (EPIPE or
  // ECONNRESET): what it may have written first is still read below, and none is "unanswered".
  ssize_t sent = ::send(fd.get(), hello, sizeof hello - 1, MSG_NOSIGNAL);
  if (sent < 0 && errno != EPIPE && errno != ECONNRESET) return 82;
  if (sent >= 0 && sent != static_cast<ssize_t>(sizeof hello - 1)) return 82;
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return 2;
  char buf[256];
  return ::read(fd.get(), buf, sizeof buf) > 0 ? 1 : 0;
}

// A listening socket at `path` made by another user, who never answers; killed when it goes.
struct ForeignServer {
  pid_t pid = 0;
  explicit ForeignServer(const std::string& path) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // one process, so that the kill below ends all of it
      ::close(ready[0]);
      int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr = unix_address(path);
      if (!become_other_user() || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::listen(fd, 16) != 0)
        ::_exit(83);
      (void)!::write(ready[1], "y", 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char c = 0;
    bool listening = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    REQUIRE_MESSAGE(listening, "the other user's listener did not start");
  }
  ~ForeignServer() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

}  // namespace

TEST_CASE("lineage: a child that moved out of the task cgroup is killed, named, and counts as a leftover") {
  TestParent parent;
  TempDir tmp;
  std::string to = escape_cgroup(parent), pids = tmp.file("pids");
  json j =
      run_json({"--parent", parent.path(), "--", "sh", "-c", escaper(to, pids, "exec sleep 1000")}, tmp, 0);
  auto escaped = rows_of(j, "escaped-process");
  REQUIRE(escaped.size() == 1);
  CHECK(escaped[0].at("outcome") == "destroyed");
  CHECK(escaped[0].at("id") == std::to_string(read_pids(pids).at(0)));
  CHECK(escaped[0].at("detail").get<std::string>().find("sleep in " + parent.relative() + "/elsewhere") !=
        std::string::npos);
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(j.at("cleanup").at("leftovers") == 1);
  CHECK(read_pids(to + "/cgroup.procs").empty());
}

TEST_CASE("lineage: a double escape (the escaped process forks) is destroyed whole") {
  TestParent parent;
  TempDir tmp;
  std::string to = escape_cgroup(parent), pids = tmp.file("pids");
  std::string body = "for i in 1 2 3; do sleep 1000 & echo $! >> " + pids + "; done; exec sleep 1001";
  json j = run_json({"--parent", parent.path(), "--", "sh", "-c", escaper(to, pids, body)}, tmp, 0);
  auto escaped = rows_of(j, "escaped-process");
  CHECK(escaped.size() == 4);
  for (const auto& row : escaped) CHECK(row.at("outcome") == "destroyed");
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(read_pids(to + "/cgroup.procs").empty());
}

TEST_CASE("lineage: a child that moves into a sub-cgroup of its own cgroup stays inside and keeps working") {
  TestParent parent;
  TempDir tmp;
  std::string own = cgroup2_mount() + "$(sed -n 's/^0:://p' /proc/self/cgroup)";
  std::string out = tmp.file("out");
  json j =
      run_json({"--parent", parent.path(), "--id", "subcg", "--", "sh", "-c",
                "d=" + own + "; mkdir $d/inner && sh -c 'echo $$ > '$d'/inner/cgroup.procs; echo works > " +
                    out + "; exec sleep 1000' & while ! [ -s " + out + " ]; do :; done"},
               tmp, 0);
  CHECK(read_text(out).value_or("") == "works\n");
  CHECK(rows_of(j, "escaped-process").empty());
  CHECK(j.at("cleanup").at("complete") == true);
  CHECK(parent.children().empty());
}

TEST_CASE("lineage: --on-leftovers fail exits 122; report names the escaped process and leaves it") {
  TestParent parent;
  TempDir tmp;
  std::string to = escape_cgroup(parent), pids = tmp.file("pids");
  json fail = run_json({"--parent", parent.path(), "--on-leftovers", "fail", "--", "sh", "-c",
                        escaper(to, pids, "exec sleep 1000")},
                       tmp, 122);
  CHECK(fail.at("cleanup").at("fail_on_leftovers") == true);
  CHECK(read_pids(to + "/cgroup.procs").empty());
  // Nothing left over: fail changes nothing.
  run_json({"--parent", parent.path(), "--on-leftovers", "fail", "--", "true"}, tmp, 0);

  std::string pids2 = tmp.file("pids2");
  json report = run_json({"--parent", parent.path(), "--on-leftovers", "report", "--", "sh", "-c",
                          escaper(to, pids2, "exec sleep 1000")},
                         tmp, 0);
  auto left = pids_in(pids2);
  REQUIRE(left.size() == 1);
  auto escaped = rows_of(report, "escaped-process");
  REQUIRE(escaped.size() == 1);
  CHECK(escaped[0].at("outcome") == "kept");
  CHECK(report.at("cleanup").at("complete") == true);
  CHECK_FALSE(is_gone(left[0]));  // left running, as asked
  ::kill(left[0].pid, SIGKILL);
  CHECK(still_alive(left).empty());
}

TEST_CASE("lineage: without it (--no-lineage) the report says so and finds nothing") {
  TestParent parent;
  TempDir tmp;
  std::string to = escape_cgroup(parent), pids = tmp.file("pids");
  json j = run_json(
      {"--parent", parent.path(), "--no-lineage", "--", "sh", "-c", escaper(to, pids, "exec sleep 1000")},
      tmp, 0);
  auto left = pids_in(pids);
  CHECK(rows_of(j, "escaped-process").empty());
  std::string notes = j.at("cleanup").at("notes").dump();
  CHECK(notes.find("lineage tracking off") != std::string::npos);
  CHECK(j.at("cleanup").at("complete") == true);  // a note is informational
  for (const auto& p : left) ::kill(p.pid, SIGKILL);
  CHECK(still_alive(left).empty());
}

TEST_CASE("lineage: an escape is recorded when seen; reap kills it after the caller's SIGKILL") {
  TestParent parent;
  TempDir tmp;
  std::string to = escape_cgroup(parent), pids = tmp.file("pids");
  std::string state = tmp.file("state");
  ::mkdir(state.c_str(), 0700);
  Child run({cgspawn_bin(), "run", "-q", "--parent", parent.path(), "--id", "crash", "--", "sh", "-c",
             escaper(to, pids, "exec sleep 1000") + "; exec sleep 1002"},
            {"CGSPAWN_STATE_DIR=" + state});
  REQUIRE(eventually([&] { return exists(state + "/crash/found"); }, 30s));
  auto left = pids_in(pids);
  run.signal(SIGKILL);
  run.wait();
  RunResult reap = run_cgspawn({"reap", "--json", "--state-dir", state});
  CAPTURE(reap.out);
  CHECK(reap.exit_code == 0);
  CHECK(reap.out.find("\"escaped-process\"") != std::string::npos);
  CHECK(still_alive(left).empty());
  CHECK(parent.children() == std::vector<std::string>{"elsewhere"});
  CHECK(read_pids(to + "/cgroup.procs").empty());
}

TEST_CASE(
    "lineage: 100 SysV segments, semaphore sets and queues, half made by a process that exited, are "
    "removed") {
  TestParent parent;
  TempDir tmp;
  std::string made = tmp.file("ipc");
  json j = run_json({"--parent", parent.path(), "--", helper_bin(), "ipc", "100", made}, tmp, 0);
  auto lines = split_lines(read_text(made).value_or(""));
  REQUIRE(lines.size() == 300);
  std::set<std::string> rows;
  for (const auto& row : rows_of(j, "ipc")) {
    CHECK(row.at("outcome") == "destroyed");
    rows.insert(row.at("id").get<std::string>());
  }
  for (const auto& line : lines) CHECK_MESSAGE(rows.count(line), line << " not in the report");
  CHECK(j.at("cleanup").at("leftovers") == 300);
  std::string now = read_text("/proc/sysvipc/shm").value_or("") +
                    read_text("/proc/sysvipc/sem").value_or("") + read_text("/proc/sysvipc/msg").value_or("");
  for (const auto& line : lines) {
    std::string id = line.substr(4);
    bool listed = false;
    for (const auto& l : split_lines(now)) {
      std::istringstream fields(l);
      std::string key, ipc_id;
      fields >> key >> ipc_id;
      listed = listed || ipc_id == id;
    }
    CHECK_MESSAGE(!listed, line << " still exists");
  }
}

TEST_CASE(
    "lineage: --on-leftovers report removes no SysV IPC: the task's objects are rows `kept` and remain") {
  TestParent parent;
  TempDir tmp;
  std::string made = tmp.file("ipc");
  RemoveListed left{made};
  json j = run_json(
      {"--parent", parent.path(), "--on-leftovers", "report", "--", helper_bin(), "ipc", "2", made}, tmp, 0);
  auto lines = split_lines(read_text(made).value_or(""));
  REQUIRE(lines.size() == 6);
  auto rows = rows_of(j, "ipc");
  CHECK(rows.size() == 6);
  for (const auto& row : rows) CHECK(row.at("outcome") == "kept");
  for (const auto& line : lines)
    CHECK_MESSAGE(ipc_exists(line.substr(0, 3), std::stoi(line.substr(4))), line);
}

// docs/backends.md, SysV IPC: what cannot be tied to the task is never removed.
TEST_CASE(
    "lineage: SysV IPC not tied to the task is left (another process's queue and unused semaphore set as "
    "suspected notes, its segment untouched); the task's segment attached outside it is not-guaranteed, "
    "and reap completes once it is detached") {
  TestParent parent;
  TempDir tmp;
  std::string state = tmp.file("state"), made = tmp.file("ipc");
  ::mkdir(state.c_str(), 0700);
  // Its output beside the state: the destroy below is incomplete on purpose, and keeps the record.
  RunResult r = Child({cgspawn_bin(), "start", "--parent", parent.path(), "--state-dir", state, "--id", "ipc",
                       "--", "sh", "-c", helper_bin() + " ipc 2 " + made + "; exec sleep 1000"},
                      {"CGSPAWN_OUTPUT_ROOT=" + tmp.file("output")})
                    .wait();
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  REQUIRE(eventually([&] { return split_lines(read_text(made).value_or("")).size() == 6; }, 30s));
  OwnIpc own;
  REQUIRE(own.msg >= 0);
  REQUIRE(own.sem >= 0);
  REQUIRE(own.shm >= 0);
  struct {
    long type = 1;
    char text[1] = {'x'};
  } message;
  REQUIRE(::msgsnd(own.msg, &message, sizeof message.text, 0) == 0);  // its last sender: this process
  std::string attached;
  for (const auto& line : split_lines(read_text(made).value_or("")))
    if (line.rfind("shm ", 0) == 0 && attached.empty()) attached = line;
  own.attached = ::shmat(std::stoi(attached.substr(4)), nullptr, SHM_RDONLY);
  REQUIRE(own.attached != reinterpret_cast<void*>(-1));

  RunResult d = run_cgspawn({"destroy", "ipc", "--state-dir", state, "--grace", "0", "--json"});
  INFO(d.out << d.err);
  CHECK(d.exit_code == 1);
  json j = json::parse(d.out);
  CHECK(j.at("cleanup").at("complete") == false);
  auto rows = rows_of(j, "ipc");
  CHECK(rows.size() == 6);
  for (const auto& row : rows)
    CHECK(row.at("outcome") == (row.at("id") == attached ? "not-guaranteed" : "destroyed"));
  std::string notes = j.at("cleanup").at("notes").dump();
  CHECK(notes.find("SysV msg " + std::to_string(own.msg) + " ") != std::string::npos);
  CHECK(notes.find("SysV sem " + std::to_string(own.sem) + " ") != std::string::npos);
  CHECK(notes.find("SysV shm " + std::to_string(own.shm)) == std::string::npos);  // its creator is known
  CHECK(ipc_exists("msg", own.msg));
  CHECK(ipc_exists("sem", own.sem));
  CHECK(ipc_exists("shm", own.shm));
  // The record keeps it: `reap` says it is still attached, and removes nothing.
  RunResult early = run_cgspawn({"reap", "--state-dir", state, "--json"});
  INFO(early.out << early.err);
  CHECK(early.exit_code == 1);
  std::string still = "\"" + attached + "\"";
  CHECK(early.out.find(still) != std::string::npos);
  CHECK(early.out.find("still attached by 1 process(es)") != std::string::npos);
  CHECK(ipc_exists("shm", std::stoi(attached.substr(4))));
  CHECK(exists(state + "/ipc"));
  ::shmdt(own.attached);  // the last attachment gone, the kernel removes the marked segment
  own.attached = nullptr;
  CHECK_FALSE(ipc_exists("shm", std::stoi(attached.substr(4))));
  RunResult reap = run_cgspawn({"reap", "--state-dir", state});  // every recorded row gone now
  CHECK_MESSAGE(reap.exit_code == 0, reap.out << reap.err);
  CHECK_FALSE(exists(state + "/ipc"));
}

TEST_CASE(
    "lineage: reap's recorded SysV row: a live object of that id not marked for removal is left (the id may "
    "be "
    "another's now); one that is gone is already-gone") {
  OwnIpc own;
  REQUIRE(own.msg >= 0);
  cgspawn::ResourceRecord recorded{
      {cgspawn::ResourceKind::ipc, "msg " + std::to_string(own.msg)}, cgspawn::ResourceState::failed, {}};
  cgspawn::ResourceOutcome row = cgspawn::destroy_recorded_ipc(recorded, {});
  CHECK(row.outcome == cgspawn::Outcome::not_guaranteed);
  CHECK(row.detail.find("cannot show it is the task's") != std::string::npos);
  CHECK(ipc_exists("msg", own.msg));
  REQUIRE(::msgctl(own.msg, IPC_RMID, nullptr) == 0);
  CHECK(cgspawn::destroy_recorded_ipc(recorded, {}).outcome == cgspawn::Outcome::already_gone);
}

// docs/backends.md, "one subscription per ledger": supervisors do not subscribe each; they ask
// their ledger's lineage server, which goes with the last of them.
TEST_CASE("lineage: started tasks of one ledger share one subscription; each one's escape is destroyed") {
  TestParent parent;
  TempDir tmp;
  std::string state = tmp.file("state"), to = escape_cgroup(parent);
  ::mkdir(state.c_str(), 0700);
  std::vector<std::string> ids = {"one", "two", "three"};
  std::vector<ProcessId> escaped;
  for (const auto& id : ids) {
    start_escaper(state, id, parent, to, tmp.file(id));
    escaped.push_back(pids_in(tmp.file(id)).at(0));
  }
  auto servers = lineage_servers(state);
  REQUIRE(servers.size() == 1);
  CHECK(connector_sockets(servers[0]) == 1);
  struct stat sock {};
  REQUIRE(::stat((state + "/.lineage.sock").c_str(), &sock) == 0);
  CHECK(S_ISSOCK(sock.st_mode));
  CHECK((sock.st_mode & 07777) == 0600);  // its user's alone (docs/backends.md)
  json list = json::parse(run_cgspawn({"list", "--json", "--state-dir", state}).out);
  REQUIRE(list.at("tasks").size() == ids.size());
  for (const auto& task : list.at("tasks")) {
    CAPTURE(task.dump());
    CHECK(task.at("owner").at("kind") == "supervisor");
    CHECK(connector_sockets(task.at("owner").at("pid").get<pid_t>()) == 0);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    json j = destroyed(state, ids[i]);
    auto rows = rows_of(j, "escaped-process");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("id") == std::to_string(escaped[i].pid));
    CHECK(rows[0].at("outcome") == "destroyed");
    CHECK(j.at("cleanup").at("complete") == true);
    CHECK(is_gone(escaped[i]));
  }
  CHECK(eventually([&] { return lineage_servers(state).empty(); }));
  CHECK_FALSE(exists(state + "/.lineage.sock"));
  CHECK(read_pids(to + "/cgroup.procs").empty());
}

TEST_CASE(
    "lineage: an escape found before the ledger's lineage server died is still destroyed, with a note") {
  TestParent parent;
  TempDir tmp;
  std::string state = tmp.file("state"), to = escape_cgroup(parent), pids = tmp.file("pids");
  ::mkdir(state.c_str(), 0700);
  start_escaper(state, "lost", parent, to, pids);
  auto left = pids_in(pids);
  auto servers = lineage_servers(state);
  REQUIRE(servers.size() == 1);
  ::kill(servers[0], SIGKILL);
  REQUIRE(eventually([&] { return lineage_servers(state).empty(); }));
  json j = destroyed(state, "lost");
  auto rows = rows_of(j, "escaped-process");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("id") == std::to_string(left.at(0).pid));
  CHECK(rows[0].at("outcome") == "destroyed");
  CHECK(still_alive(left).empty());
  bool noted = false;
  for (const auto& note : j.at("cleanup").at("notes"))
    noted =
        noted || note.get<std::string>().find("lineage server ended while the task ran") != std::string::npos;
  CHECK(noted);
  CHECK(eventually([&] { return lineage_servers(state).empty(); }));  // the one that took over went too
  CHECK(read_pids(to + "/cgroup.procs").empty());
}

TEST_CASE("lineage: backends says whether processes are followed by descent") {
  RunResult r = run_cgspawn({"backends", "--json"});
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  for (const auto& b : j.at("backends")) {
    CAPTURE(b.dump());
    REQUIRE(b.contains("lineage"));
    if (b.at("backend") == "process") {
      CHECK(b.at("lineage").at("available") == true);  // these tests run as root
      CHECK(b.at("lineage").at("reason").get<std::string>().find("process events connector") !=
            std::string::npos);
    }
  }
}

TEST_CASE("lineage: a dead process whose cgroup was removed is still in that cgroup, not escaped from it") {
  // The lineage server handles an exec event when it reads it, which may be after the process
  // died and its task's cgroup was removed; /proc/PID/cgroup then says "<cgroup> (deleted)".
  std::string cgroup = cgroup2_mount() + "/cgspawn-test-deleted-" + std::to_string(::getpid());
  REQUIRE(::mkdir(cgroup.c_str(), 0755) == 0);
  pid_t child = ::fork();
  if (child == 0) {
    std::ofstream(cgroup + "/cgroup.procs") << 0 << std::flush;
    ::_exit(0);
  }
  REQUIRE(child > 0);
  siginfo_t info{};
  REQUIRE(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0);  // a zombie, kept
  bool removed = cgtest::eventually([&] { return ::rmdir(cgroup.c_str()) == 0; });
  std::string named = cgspawn::cgroup_of(child);
  ::waitpid(child, nullptr, 0);
  if (!removed) ::rmdir(cgroup.c_str());
  REQUIRE(removed);
  std::string relative = cgspawn::cgroup_relative(cgroup);
  CHECK(named == relative);
  CHECK(cgspawn::inside(named, relative));
}

TEST_CASE(
    "lineage: a process named in the root cgroup is an escape only while the root's cgroup.procs lists it") {
  // The kernel sends a fork's event before it places the child in a cgroup; until then the
  // child reads as in the root cgroup and is listed in no cgroup.procs. A zombie in the root
  // reads and is listed alike, and is what this test can hold still.
  std::string task = "/cgspawn-test-root-" + std::to_string(::getpid());  // never made: all is outside
  int go[2];
  REQUIRE(::pipe(go) == 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(go[1]);
    std::ofstream(cgroup2_mount() + "/cgroup.procs") << 0 << std::flush;  // already there on a hybrid host
    char c;
    ::_exit(::read(go[0], &c, 1) == 1 ? 0 : 1);
  }
  REQUIRE(child > 0);
  ::close(go[0]);
  bool in_root = cgtest::eventually([&] { return cgspawn::cgroup_of(child) == "/"; });
  std::string while_alive = cgspawn::escaped_to(child, task);
  REQUIRE(::write(go[1], "x", 1) == 1);
  ::close(go[1]);
  siginfo_t info{};
  REQUIRE(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0);  // a zombie, kept
  std::string named = cgspawn::cgroup_of(child);
  std::string as_zombie = cgspawn::escaped_to(child, task);
  ::waitpid(child, nullptr, 0);
  REQUIRE(in_root);
  CHECK(while_alive == "/");  // listed in the root's cgroup.procs: there it is
  CHECK(named == "/");        // still named there...
  CHECK(as_zombie.empty());   // ...but listed nowhere: no escape
}

// docs/backends.md, lineage: the ledger's server takes no peer of another user, and a
// supervisor asks no server of another user (SO_PEERCRED, both ways). The other user here
// keeps CAP_DAC_OVERRIDE, so the ledger directory's mode does not stop it before the check.
TEST_CASE(
    "lineage: the ledger's server answers no peer of another user; no task asks a server of another user") {
  TestParent parent;
  TempDir tmp;
  std::string state = tmp.file("state"), foreign = tmp.file("foreign");
  ::mkdir(state.c_str(), 0700);
  ::mkdir(foreign.c_str(), 0700);
  RunResult r = run_cgspawn(
      {"start", "--parent", parent.path(), "--state-dir", state, "--id", "own", "--", "sleep", "1000"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  REQUIRE(eventually([&] { return lineage_servers(state).size() == 1; }));
  std::string sock = state + "/.lineage.sock";
  CHECK(hello_at(sock) == 1);                                 // its own user is answered
  CHECK(as_other_user([&] { return hello_at(sock); }) == 0);  // another is cut off, unanswered
  CHECK(hello_at(sock) == 1);                                 // and the server serves on
  destroyed(state, "own");

  ForeignServer server(foreign + "/.lineage.sock");
  r = run_cgspawn(
      {"start", "--parent", parent.path(), "--state-dir", foreign, "--id", "asks", "--", "sleep", "1000"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json j = destroyed(foreign, "asks");
  bool refused = false;
  for (const auto& note : j.at("cleanup").at("notes"))
    refused = refused || note.get<std::string>().find("is not served by this user") != std::string::npos;
  CAPTURE(j.at("cleanup").at("notes").dump());
  CHECK(refused);
  CHECK(lineage_servers(foreign).empty());  // none of ours was started beside it
}
