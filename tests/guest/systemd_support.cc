// SPDX-License-Identifier: MIT
#include "systemd_support.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

namespace cgsd {

Shell sh(const std::string& command) {
  Shell r;
  FILE* p = ::popen(("exec 2>&1; " + command).c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::chrono::milliseconds scaled(std::chrono::milliseconds base) {
  double scale = 1;
  if (const char* s = std::getenv("CGSPAWN_GUEST_TIMEOUT_SCALE"); s && *s) scale = std::atof(s);
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(base.count()) * scale));
}

std::string as_cgtest(const std::string& command) {
  return "runuser -u cgtest -- env XDG_RUNTIME_DIR=/run/user/1500 "
         "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1500/bus " +
         command;
}

std::string unit_property(const std::string& unit, const std::string& property, bool user) {
  std::string cmd = "systemctl" + std::string(user ? " --user" : "") + " show -P " + property + " " + unit;
  std::string out = sh(user ? as_cgtest(cmd) : cmd).out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string unit_cgroup(const std::string& unit, bool user) {
  std::string cg = unit_property(unit, "ControlGroup", user);
  return cg.empty() ? "" : "/sys/fs/cgroup" + cg;
}

bool unit_gone(const std::string& unit, bool user) {
  return unit_property(unit, "LoadState", user) == "not-found" &&
         unit_property(unit, "ControlGroup", user).empty();
}

std::string cgspawn_units() {
  std::string cmd = "systemctl list-units 'cgspawn-*' --all --plain --no-legend";
  std::string out = sh(cmd).out;
  if (sh("test -S /run/user/1500/bus").status == 0)
    out += sh(as_cgtest("systemctl --user list-units 'cgspawn-*' --all --plain --no-legend")).out;
  return out;
}

cgspawn::TaskSpec shell_task(const std::string& id, const std::string& script,
                             std::vector<std::string> args) {
  cgspawn::TaskSpec spec;
  spec.id = id;
  spec.argv = {"/bin/sh", "-c", script, "sh"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  return spec;
}

std::unique_ptr<cgspawn::Spawner> system_spawner() {
  cgspawn::BackendOptions options;
  options.backend = "systemd";
  return cgspawn::make_spawner(options);
}

}  // namespace cgsd
