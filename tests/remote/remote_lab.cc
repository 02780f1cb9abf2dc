// SPDX-License-Identifier: MIT
#include "remote_lab.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>

#include "host.hpp"

namespace rtest {
namespace {

std::string scripts() {
  const char* dir = std::getenv("CGSPAWN_REMOTE_SCRIPTS");
  if (!dir || !*dir) throw std::runtime_error("$CGSPAWN_REMOTE_SCRIPTS (tests/remote) is not set");
  return dir;
}

std::string lab_dir() {
  const char* dir = std::getenv("CGSPAWN_LAB");
  return dir && *dir ? dir : "/run/cgspawn-testlab";
}

constexpr int kLabs = 3;
Lab labs[kLabs] = {{71, false, false}, {72, true, false}, {73, true, true}};
bool brought_up[kLabs] = {false, false, false};

int shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void given_labs() {
  const char* env = std::getenv("CGSPAWN_REMOTE_LABS");  // "N_BASH N_DASH N_CGSPAWN" from run-remote-suite.sh
  if (!env || !*env) return;
  int a = 0, b = 0, c = 0;
  if (std::sscanf(env, "%d %d %d", &a, &b, &c) != 3)
    throw std::runtime_error("bad $CGSPAWN_REMOTE_LABS: " + std::string(env));
  labs[0].n = a;
  labs[1].n = b;
  labs[2].n = c;
}

}  // namespace

std::string Lab::config() const {
  return lab_dir() + "/r" + std::to_string(n) + "/ssh_config";
}
std::string Lab::sshd_log() const {
  return lab_dir() + "/r" + std::to_string(n) + "/sshd.log";
}
std::string Lab::host_cgroup() const {
  return cgtest::cgroup2_mount() + "/cgspawn-testlab-r" + std::to_string(n);
}

void Lab::fault(const std::string& action) const {
  if (shell(scripts() + "/fault.sh " + std::to_string(n) + " " + action) != 0)
    throw std::runtime_error("fault.sh " + std::to_string(n) + " " + action + " failed");
}

std::string Lab::ssh(const std::string& command) const {
  std::string out;
  FILE* p = ::popen(
      ("ssh -F " + config() + " " + alias() + " '" + command + "' </dev/null 2>/dev/null").c_str(), "r");
  if (!p) throw std::runtime_error("popen ssh failed");
  char buf[4096];
  for (size_t got; (got = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, got);
  ::pclose(p);
  return out;
}

const Lab& bash_lab() {
  return labs[0];
}
const Lab& dash_lab() {
  return labs[1];
}
const Lab& cgspawn_lab() {
  return labs[2];
}

void labs_up() {
  given_labs();
  for (int i = 0; i < kLabs; ++i) {
    if (cgtest::exists(labs[i].config())) continue;  // brought up by run-remote-suite.sh
    std::string env = labs[i].dash_pidns ? "REMOTE_SHELL=/bin/dash REMOTE_PIDNS=1 " : "";
    if (labs[i].cgspawn) env += "REMOTE_CGSPAWN=" + cgtest::cgspawn_bin() + " ";
    std::string cmd = env + scripts() + "/lab-up.sh " + std::to_string(labs[i].n) + " >/dev/null";
    brought_up[i] = true;
    if (shell(cmd) != 0) throw std::runtime_error("cannot bring the test lab up: " + cmd);
  }
}

void labs_down() {
  for (int i = 0; i < kLabs; ++i)
    if (brought_up[i]) shell(scripts() + "/lab-down.sh " + std::to_string(labs[i].n) + " >/dev/null");
}

std::vector<std::string> remote_args(const std::string& verb, const Lab& lab, const std::string& state_dir,
                                     const std::vector<std::string>& extra,
                                     const std::vector<std::string>& argv) {
  std::vector<std::string> args = {verb,           "--backend",  "remote",      "--host", lab.alias(),
                                   "--ssh-config", lab.config(), "--state-dir", state_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("--");
  args.insert(args.end(), argv.begin(), argv.end());
  return args;
}

std::string output_root(const std::string& state_dir) {
  return state_dir + ".output";
}

std::vector<std::string> cgspawn_env(const std::string& state_dir) {
  return {"CGSPAWN_STATE_DIR=" + state_dir, "CGSPAWN_OUTPUT_ROOT=" + output_root(state_dir)};
}

std::vector<std::string> cgspawn_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {cgtest::cgspawn_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

cgtest::RunResult cgspawn_in(const std::string& state_dir, const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout) {
  cgtest::Child child(cgspawn_argv(args), cgspawn_env(state_dir));
  return child.wait(timeout);
}

std::vector<std::string> remote_task_cgroups(const Lab& lab) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(lab.task_parent(), ec))
    if (e.is_directory(ec)) out.push_back(e.path().filename().string());
  return out;
}

std::vector<int> remote_task_pids(const Lab& lab) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(lab.task_parent(), ec)) {
    if (e.path().filename() != "cgroup.procs") continue;
    for (int p : cgtest::read_pids(e.path().string())) out.push_back(p);
  }
  return out;
}

std::vector<int> local_ssh_processes(const std::string& text) {
  std::vector<int> out;
  DIR* proc = ::opendir("/proc");
  while (dirent* e = proc ? ::readdir(proc) : nullptr) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    auto comm = cgtest::read_text("/proc/" + std::to_string(pid) + "/comm").value_or("");
    auto stat = cgtest::read_text("/proc/" + std::to_string(pid) + "/stat").value_or("");
    if (comm != "ssh\n" || stat.find(") Z ") != std::string::npos) continue;
    auto cmdline = cgtest::read_text("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
    if (cmdline.find(text) != std::string::npos) out.push_back(pid);
  }
  if (proc) ::closedir(proc);
  return out;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace rtest
