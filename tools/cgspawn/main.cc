// SPDX-License-Identifier: MIT
// cgspawn: the command line, a thin layer over the library. One file per verb.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <vector>

#include "cgspawn/cgspawn.hpp"
#include "cmd_backends.hpp"
#include "cmd_destroy.hpp"
#include "cmd_list.hpp"
#include "cmd_reap.hpp"
#include "cmd_run.hpp"
#include "cmd_start.hpp"
#include "cmd_status.hpp"
#include "cmd_wait.hpp"
#include "exit_codes.hpp"
#include "output.hpp"

namespace {

void set_log_level(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off")
    throw CLI::ValidationError("--log-level",
                               "unknown level \"" + level + "\" (trace, debug, info, warn, error)");
  spdlog::set_level(parsed);
}

int dispatch(CLI::App& app, const std::vector<cgspawn::cli::Verb>& verbs) {
  for (const auto& verb : verbs)
    if (verb.command->parsed()) return verb.run();
  std::cerr << app.help();
  return cgspawn::cli::kCgspawnError;
}

// CLI11 lists every unparsed word ("-- --bogus"); name the options, which are the mistake.
std::string unexpected_arguments(const CLI::ExtrasError& e) {
  std::string what = e.what();
  auto colon = what.find(": ");
  std::string words = colon == std::string::npos ? what : what.substr(colon + 2);
  std::string options;
  std::istringstream in(words);
  for (std::string w; in >> w;)
    if (w.size() > 1 && w[0] == '-' && w != "--") options += (options.empty() ? "" : " ") + w;
  if (options.empty()) return what;
  return "unknown option " + options + " (the program and its arguments go after --)";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cgspawn::cli;
  CLI::App app{"cgspawn: run tasks in cgroups of their own, destroy them, and prove it", "cgspawn"};
  app.set_version_flag("--version", std::string("cgspawn ") + cgspawn::version);
  app.require_subcommand(1);
  const char* env_level = std::getenv("CGSPAWN_LOG");
  std::string log_level = env_level ? env_level : "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn (default), error; or $CGSPAWN_LOG");
  std::vector<Verb> verbs = {add_run_command(app),  add_start_command(app),   add_status_command(app),
                             add_wait_command(app), add_destroy_command(app), add_list_command(app),
                             add_reap_command(app), add_backends_command(app)};
  try {
    app.parse(argc, argv);
    set_log_level(log_level);
    return dispatch(app, verbs);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    print_error(unexpected_arguments(e));
    return kCgspawnError;
  } catch (const CLI::RequiredError& e) {
    std::string what = e.what();
    print_error(what.find("command") != std::string::npos ? "no program given: put PROGRAM [ARGS...] after --"
                                                          : what);
    return kCgspawnError;
  } catch (const CLI::ParseError& e) {
    print_error(e.what());
    return kCgspawnError;
  } catch (const cgspawn::Error& e) {
    print_error(e.what());
    return exit_code_for(e);
  } catch (const std::exception& e) {
    print_error(e.what());
    return kCgspawnError;
  }
}
