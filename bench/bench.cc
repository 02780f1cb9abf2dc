// SPDX-License-Identifier: MIT
// cgspawn-bench: the benchmarks of the process backend and `cgspawn run`, each measured side by
// side with its baseline in the same run (interleaved, medians). Needs root and cgroup2. Run
// through bench/run.sh.
//
//   cgspawn-bench spawn RUNS             [1] library spawn + wait + verified destroy of
//                                            /bin/true vs bare fork + exec + wait
//   cgspawn-bench cli RUNS CGSPAWN       [2] `cgspawn run -- /bin/true` vs `/usr/bin/env
//                                            /bin/true`, and the peak RSS of cgspawn run
//   cgspawn-bench destroy RUNS HELPER    [3] destroy of a 1000-process tree until verified
//                                            empty vs the kernel floor (cgroup.kill, then
//                                            poll cgroup.events until "populated 0")
//   cgspawn-bench hang RUNS HELPER       [6] destroy of a running task with the hang report vs
//                                            without (--no-hang-report): 1 and 1000 processes
//                                        [7] reading usage and pressure on every destroy
//   cgspawn-bench records N DIR ID       N copies of task ID's record in the ledger DIR, written
//                                        through the Ledger (record and index), owned by a
//                                        process that is gone (bench_ledger.sh [3])
//
// Each prints its figures and a line "ratio NAME VALUE TARGET" for run.sh.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "cgroup/pressure.hpp"
#include "cgroup/usage.hpp"
#include "cgspawn/cgspawn.hpp"

using Clock = std::chrono::steady_clock;
using namespace cgspawn;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Thrown, so the BenchParent guards still kill and remove their cgroups on the way out.
[[noreturn]] void die(const std::string& what) {
  throw std::runtime_error(what);
}

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

bool write_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

bool populated(const std::string& cgroup) {
  return read_file(cgroup + "/cgroup.events").find("populated 1") != std::string::npos;
}

size_t count_procs(const std::string& cgroup) {
  std::istringstream in(read_file(cgroup + "/cgroup.procs"));
  size_t n = 0;
  for (long pid; in >> pid;) ++n;
  return n;
}

// The benchmark's own parent cgroup, killed and removed at the end whatever happened.
class BenchParent {
 public:
  BenchParent() {
    Hierarchy h = discover_hierarchy();
    if (h.layout == CgroupLayout::none) die("no cgroup2 on this host");
    path_ = h.mount + "/cgspawn-bench-" + std::to_string(::getpid());
    if (::mkdir(path_.c_str(), 0755) != 0) die("mkdir " + path_ + ": " + std::strerror(errno));
  }
  ~BenchParent() {
    std::error_code ec;
    for (int i = 0; i < 500; ++i) {
      if (populated(path_)) write_file(path_ + "/cgroup.kill", "1");
      std::vector<std::string> dirs;
      for (const auto& e : std::filesystem::directory_iterator(path_, ec))
        if (e.is_directory(ec)) dirs.push_back(e.path().string());
      for (const auto& d : dirs) ::rmdir(d.c_str());
      if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::fprintf(stderr, "cgspawn-bench: could not remove %s\n", path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// fork + exec + wait4 of argv; returns milliseconds, and the child's peak RSS in KiB.
double run_process(const std::vector<std::string>& argv, long* maxrss_kib = nullptr) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  if (::wait4(pid, &status, 0, &ru) != pid) die("wait4 failed");
  double ms = ms_since(t0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die(argv[0] + std::string(" ") + (argv.size() > 1 ? argv[1] : "") + " failed, status " +
        std::to_string(status));
  if (maxrss_kib) *maxrss_kib = ru.ru_maxrss;
  return ms;
}

void print_ratio(const char* name, double ratio, double target) {
  std::printf("    ratio %.2fx (target <= %.2fx): %s\n", ratio, target,
              ratio <= target ? "ok" : "OVER TARGET");
  std::printf("ratio %s %.3f %.2f\n", name, ratio, target);
}

// Runs `a` and `b` alternately `runs` times after a few warm-up rounds; their medians.
std::pair<double, double> interleaved(int runs, int warmup, const std::function<double()>& a,
                                      const std::function<double()>& b) {
  for (int i = 0; i < warmup; ++i) {
    a();
    b();
  }
  std::vector<double> as, bs;
  for (int i = 0; i < runs; ++i) {
    if (i % 2) {
      as.push_back(a());
      bs.push_back(b());
    } else {
      bs.push_back(b());
      as.push_back(a());
    }
  }
  return {median(as), median(bs)};
}

int bench_spawn(int runs) {
  BenchParent parent;
  auto spawner = make_process_spawner({parent.path()});
  auto library = [&] {
    TaskSpec spec;
    spec.argv = {"/bin/true"};
    auto t0 = Clock::now();
    Result r = spawner->spawn(spec)->wait();
    double ms = ms_since(t0);
    if (!r.cleanup.complete() || r.exit.code != 0) die("a library run did not end cleanly");
    return ms;
  };
  auto bare = [] { return run_process({"/bin/true"}); };
  auto [lib, base] = interleaved(runs, 10, library, bare);
  std::printf("[1] library spawn + wait + verified destroy of /bin/true: median %.3f ms (n=%d)\n", lib, runs);
  std::printf("    baseline: fork + exec + wait of /bin/true:           median %.3f ms\n", base);
  print_ratio("spawn", lib / base, 1.2);
  return 0;
}

int bench_cli(int runs, const std::string& cgspawn) {
  BenchParent parent;
  char state[] = "/tmp/cgspawn-bench-state-XXXXXX";  // cgspawn's ledger, not the host's
  if (!::mkdtemp(state)) die("mkdtemp");
  ::setenv("CGSPAWN_STATE_DIR", state, 1);
  std::vector<double> rss;
  auto cli = [&] {
    long kib = 0;
    double ms = run_process({cgspawn, "run", "-q", "--parent", parent.path(), "--", "/bin/true"}, &kib);
    rss.push_back(static_cast<double>(kib));
    return ms;
  };
  auto env = [] { return run_process({"/usr/bin/env", "/bin/true"}); };
  auto [run, base] = interleaved(runs, 5, cli, env);
  std::filesystem::remove_all(state);
  double rss_mib = median(rss) / 1024, rss_max = *std::max_element(rss.begin(), rss.end()) / 1024;
  std::printf("[2] cgspawn run -q -- /bin/true: median %.3f ms (n=%d)\n", run, runs);
  std::printf("    baseline: /usr/bin/env /bin/true: median %.3f ms\n", base);
  print_ratio("cli", run / base, 2.0);
  std::printf(
      "    peak RSS of cgspawn run (wait4 ru_maxrss): median %.2f MiB, max %.2f MiB (target <= 8 MiB): %s\n",
      rss_mib, rss_max, rss_max <= 8 ? "ok" : "OVER TARGET");
  std::printf("ratio cli-rss-mib %.3f 8.0\n", rss_max);
  return 0;
}

// Waits for "populated 0" on cgroup.events open at `events` (opened before the kill, closed
// after the timing): poll for its change notices (POLLPRI), each read arming the next.
void wait_empty_notices(int events) {
  char buf[256];
  for (;;) {
    ::lseek(events, 0, SEEK_SET);
    ssize_t n = ::read(events, buf, sizeof buf - 1);
    if (n < 0) die("read cgroup.events");
    buf[n] = 0;
    if (std::strstr(buf, "populated 0")) return;
    pollfd p{events, POLLPRI, 0};
    if (::poll(&p, 1, 30000) <= 0) die("the tree did not die within 30 s");
  }
}

int bench_destroy(int runs, const std::string& helper) {
  BenchParent parent;
  auto spawner = make_process_spawner({parent.path()});
  const size_t n = 1000;
  int serial = 0;
  // A fresh tree of n processes, fully started.
  auto start_tree = [&](std::string& cgroup) {
    TaskSpec spec;
    spec.id = "tree-" + std::to_string(++serial);
    spec.argv = {helper, "tree", std::to_string(n), "/dev/null"};
    spec.hang_report = false;  // the destroy alone; what the report adds is [6]
    auto task = spawner->spawn(spec);
    cgroup = parent.path() + "/cgspawn-" + spec.id;
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (count_procs(cgroup) < n) {
      if (Clock::now() > deadline) die("the tree did not reach " + std::to_string(n) + " processes");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return task;
  };
  DestroyOptions now;
  now.grace = Duration::zero();
  now.verify_timeout = std::chrono::seconds(30);
  std::vector<double> row_ms;  // the cgroup row's own "seconds": kill, verify, rmdir
  auto library = [&] {
    std::string cgroup;
    auto task = start_tree(cgroup);
    auto t0 = Clock::now();
    Result r = task->finish(now);
    double ms = ms_since(t0);
    if (!r.cleanup.complete() || r.cleanup.resources[0].killed_total != n)
      die("a library destroy was not complete");
    row_ms.push_back(r.cleanup.resources[0].seconds * 1000);
    return ms;
  };
  auto floor = [&] {
    std::string cgroup;
    auto task = start_tree(cgroup);
    int events = ::open((cgroup + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC);
    if (events < 0) die("open cgroup.events");
    auto t0 = Clock::now();
    if (!write_file(cgroup + "/cgroup.kill", "1")) die("write cgroup.kill");
    wait_empty_notices(events);
    double ms = ms_since(t0);
    ::close(events);
    task->finish(now);  // not timed: removes the (empty) cgroup
    return ms;
  };
  auto [lib, base] = interleaved(runs, 1, library, floor);
  std::printf("[3] destroy of a %zu-process tree until verified empty (library): median %.3f ms (n=%d)\n", n,
              lib, runs);
  std::printf("    of which the cgroup row's own seconds (kill, verify, rmdir):  median %.3f ms\n",
              median(row_ms));
  std::printf("    kernel floor: cgroup.kill + poll until populated 0:           median %.3f ms\n", base);
  print_ratio("destroy", lib / base, 1.2);
  return 0;
}

// Lineage tracking (docs/backends.md) against the same with TaskSpec::track_lineage off
// (--no-lineage), interleaved: /bin/true, and a tree of 1000 processes from spawn to verified
// destroy (its forks are the events lineage follows).
int bench_lineage(int runs, const std::string& helper) {
  BenchParent parent;
  auto spawner = make_process_spawner({parent.path()});
  auto one = [&](bool track) {
    TaskSpec spec;
    spec.argv = {"/bin/true"};
    spec.track_lineage = track;
    auto t0 = Clock::now();
    Result r = spawner->spawn(spec)->wait();
    double ms = ms_since(t0);
    if (!r.cleanup.complete() || r.exit.code != 0) die("a run of /bin/true did not end cleanly");
    return ms;
  };
  auto [on, off] = interleaved(
      runs, 10, [&] { return one(true); }, [&] { return one(false); });
  std::printf("[4] spawn + wait + verified destroy of /bin/true, lineage on: median %.3f ms (n=%d)\n", on,
              runs);
  std::printf("    lineage off (--no-lineage):                            median %.3f ms\n", off);
  print_ratio("lineage-true", on / off, 1.1);

  const size_t n = 1000;
  DestroyOptions now;
  now.grace = Duration::zero();
  now.verify_timeout = std::chrono::seconds(30);
  int serial = 0;
  auto tree = [&](bool track) {
    TaskSpec spec;
    spec.id = "lineage-" + std::to_string(++serial);
    spec.argv = {helper, "tree", std::to_string(n), "/dev/null"};
    spec.track_lineage = track;
    std::string cgroup = parent.path() + "/cgspawn-" + spec.id;
    auto t0 = Clock::now();
    auto task = spawner->spawn(spec);
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (count_procs(cgroup) < n) {
      if (Clock::now() > deadline) die("the tree did not reach " + std::to_string(n) + " processes");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    Result r = task->finish(now);
    double ms = ms_since(t0);
    if (!r.cleanup.complete()) die("a tree's destroy was not complete");
    return ms;
  };
  int tree_runs = std::max(3, runs / 30);
  auto [tree_on, tree_off] = interleaved(
      tree_runs, 1, [&] { return tree(true); }, [&] { return tree(false); });
  std::printf("[5] a %zu-process tree, spawn to verified destroy, lineage on: median %.3f ms (n=%d)\n", n,
              tree_on, tree_runs);
  std::printf("    lineage off (--no-lineage):                                median %.3f ms\n", tree_off);
  print_ratio("lineage-tree", tree_on / tree_off, 1.1);
  return 0;
}

// [6] What the hang report adds to the destroy of a task whose main program still runs: one
// sleeping process, and a tree of 1000 (the report then describes the first 200 and counts the
// rest). Figures only: the report is paid once per hung task, not per task.
int bench_hang_report(int runs, const std::string& helper) {
  BenchParent parent;
  auto spawner = make_process_spawner({parent.path()});
  DestroyOptions now;
  now.grace = Duration::zero();
  now.verify_timeout = std::chrono::seconds(30);
  int serial = 0;
  auto destroy_running = [&](size_t n, bool report) {
    TaskSpec spec;
    spec.id = "hang-" + std::to_string(++serial);
    spec.hang_report = report;
    spec.argv = n == 1 ? std::vector<std::string>{"/bin/sleep", "1000"}
                       : std::vector<std::string>{helper, "tree", std::to_string(n), "/dev/null"};
    std::string cgroup = parent.path() + "/cgspawn-" + spec.id;
    auto task = spawner->spawn(spec);
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (count_procs(cgroup) < n) {
      if (Clock::now() > deadline) die("the task did not reach " + std::to_string(n) + " processes");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // A hung task has run a while. A cgroup's change notices are at most one per 10 ms: the
    // freeze's, 10 ms after the start's, would wait out the rest of that (docs/performance.md).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto t0 = Clock::now();
    Result r = task->finish(now);
    double ms = ms_since(t0);
    if (!r.cleanup.complete() || r.hang.has_value() != report) die("a destroy of a running task went wrong");
    if (report && (!r.hang->frozen || r.hang->processes.size() + r.hang->left_out < n))
      die("a hang report did not hold the whole task, frozen");
    return ms;
  };
  auto [one_on, one_off] = interleaved(
      runs, 3, [&] { return destroy_running(1, true); }, [&] { return destroy_running(1, false); });
  std::printf("[6] destroy of a running task (1 process), with the hang report: median %.3f ms (n=%d)\n",
              one_on, runs);
  std::printf("    without it (--no-hang-report):                             median %.3f ms\n", one_off);
  std::printf("    the hang report of 1 process costs %.3f ms (%.2fx)\n", one_on - one_off, one_on / one_off);
  const size_t n = 1000;
  int tree_runs = std::max(3, runs / 10);
  auto [tree_on, tree_off] = interleaved(
      tree_runs, 1, [&] { return destroy_running(n, true); }, [&] { return destroy_running(n, false); });
  std::printf("    a %zu-process task, with the hang report: median %.3f ms (n=%d); without: %.3f ms\n", n,
              tree_on, tree_runs, tree_off);
  std::printf("    the hang report of %zu processes costs %.3f ms (%.2fx)\n", n, tree_on - tree_off,
              tree_on / tree_off);
  return 0;
}

// [7] Usage and pressure are read on every destroy: the task cgroup's cpu.stat, memory.peak,
// memory.events and three *.pressure files, and the host's three /proc/pressure files at the
// start and at the end. Their cost, timed on a live task cgroup, against the whole of a
// spawn + wait + verified destroy of /bin/true: the destroy without them takes T - U.
int bench_usage(int runs) {
  BenchParent parent;
  auto spawner = make_process_spawner({parent.path()});
  std::vector<double> whole, reads;
  for (int i = 0; i < runs + 10; ++i) {
    TaskSpec spec;
    spec.argv = {"/bin/true"};
    auto t0 = Clock::now();
    Result r = spawner->spawn(spec)->wait();
    if (!r.cleanup.complete()) die("a run of /bin/true did not end cleanly");
    if (i >= 10) whole.push_back(ms_since(t0));
  }
  TaskSpec spec;
  spec.id = "usage-reads";
  spec.argv = {"/bin/sleep", "1000"};
  auto task = spawner->spawn(spec);
  Cgroup cgroup = Cgroup::open(parent.path() + "/cgspawn-" + spec.id);
  for (int i = 0; i < runs + 10; ++i) {
    auto t0 = Clock::now();
    Usage usage = read_usage(cgroup);
    auto host = stall_growth(host_stalls(), host_stalls());
    if (i >= 10) reads.push_back(ms_since(t0));
    if (usage.pressure.size() > 3 || host.size() > 3) die("more pressure resources than cpu, memory and io");
  }
  task->finish(DestroyOptions{});
  double t = median(whole), u = median(reads);
  std::printf("[7] spawn + wait + verified destroy of /bin/true: median %.3f ms (n=%d)\n", t, runs);
  std::printf("    of which reading usage and pressure (task cgroup and host): median %.3f ms\n", u);
  print_ratio("usage", t / (t - u), 1.05);
  return 0;
}

// Copies of one real record with new ids and a gone owner, as a crashed runner leaves them.
int write_records(int count, const std::string& dir, const std::string& model_id) {
  cgspawn::Ledger ledger(dir);
  auto model = ledger.read(model_id);
  if (!model) throw std::runtime_error("no task " + model_id + " in " + dir);
  pid_t gone = ::fork();  // a pid whose process has ended
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  model->owner = {gone, 1, cgspawn::OwnerKind::library};
  for (int i = 0; i < count; ++i) {
    cgspawn::TaskRecord r = *model;
    char id[16];
    std::snprintf(id, sizeof id, "rec%05d", i);
    r.id = id;
    for (auto& res : r.resources) {
      auto at = res.resource.id.find("cgspawn-" + model_id);
      if (at != std::string::npos)
        res.resource.id.replace(at, 8 + model_id.size(), std::string("cgspawn-") + id);
    }
    ledger.create(r);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  int runs = argc > 2 ? std::atoi(argv[2]) : 0;
  if (runs < 1) runs = 1;
  try {
    if (mode == "spawn" && argc == 3) return bench_spawn(runs);
    if (mode == "cli" && argc == 4) return bench_cli(runs, argv[3]);
    if (mode == "destroy" && argc == 4) return bench_destroy(runs, argv[3]);
    if (mode == "lineage" && argc == 4) return bench_lineage(runs, argv[3]);
    if (mode == "hang" && argc == 4) return bench_hang_report(runs, argv[3]) | bench_usage(runs * 10);
    if (mode == "records" && argc == 5) return write_records(runs, argv[3], argv[4]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cgspawn-bench: %s\n", e.what());
    return 2;
  }
  std::fprintf(stderr,
               "usage: %s spawn RUNS | cli RUNS CGSPAWN | destroy RUNS HELPER | lineage RUNS HELPER | hang "
               "RUNS HELPER | records N DIR ID\n",
               argv[0]);
  return 2;
}
