// SPDX-License-Identifier: MIT
// Program lookup and environment building, done in the parent so that a missing program is
// reported before anything is created.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <sstream>

#include "launch/launcher.hpp"
#include "storage/scratch.hpp"
#include "util/sys_error.hpp"

extern char** environ;

namespace cgspawn {
namespace {

// 0 when `path` is an executable regular file, else the errno execve would give.
int check_executable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EACCES;
  if (::access(path.c_str(), X_OK) != 0) return errno;
  return 0;
}

[[noreturn]] void throw_lookup(const std::string& name, int err) {
  std::string message = name + ": " + errno_text(err);
  throw Error(err == ENOENT || err == ENOTDIR ? ErrorKind::not_found : ErrorKind::not_executable, message);
}

std::string name_of(const std::string& assignment) {
  return assignment.substr(0, assignment.find('='));
}

}  // namespace

std::string resolve_program(const std::string& name, const std::string& path_env) {
  if (name.empty()) throw Error(ErrorKind::not_found, "empty program name");
  if (name.find('/') != std::string::npos) {
    if (int err = check_executable(name)) throw_lookup(name, err);
    return name;
  }
  std::istringstream dirs(path_env.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_env);
  std::string dir;
  int first_error = ENOENT;  // as execvp: EACCES from a match beats ENOENT from the rest
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    int err = check_executable(candidate);
    if (err == 0) return candidate;
    if (err != ENOENT && err != ENOTDIR && first_error == ENOENT) first_error = err;
  }
  throw_lookup(name, first_error);
}

std::vector<std::string> build_environment(const TaskSpec& spec) {
  std::map<std::string, std::string> by_name;
  std::vector<std::string> order;
  auto put = [&](const std::string& assignment) {
    std::string name = name_of(assignment);
    if (!by_name.count(name)) order.push_back(name);
    by_name[name] = assignment;
  };
  if (spec.inherit_env)
    for (char** e = environ; e && *e; ++e) put(*e);
  for (const auto& assignment : spec.env) put(assignment);
  std::vector<std::string> env;
  env.reserve(order.size());
  for (const auto& name : order) env.push_back(by_name[name]);
  return env;
}

LaunchRequest launch_request_for(const TaskSpec& spec, std::string program) {
  LaunchRequest request;
  request.program = std::move(program);
  request.argv = spec.argv;
  request.envp = build_environment(spec);
  request.cwd = spec.cwd;
  request.stdio[0] = spec.stdin_fd;
  request.stdio[1] = spec.stdout_fd;
  request.stdio[2] = spec.stderr_fd;
  request.isolation = {spec.private_tmp, spec.private_ipc, spec.scratch ? scratch_path(spec) : ""};
  return request;
}

}  // namespace cgspawn
