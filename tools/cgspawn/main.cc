// SPDX-License-Identifier: MIT
// cgspawn: the command line, a thin layer over the library. One file per verb.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string_view>
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

struct NamedVerb {
  const char* name;
  cgspawn::cli::Verb (*add)(CLI::App&);
};

constexpr NamedVerb kVerbs[] = {
    {"run", cgspawn::cli::add_run_command},         {"start", cgspawn::cli::add_start_command},
    {"status", cgspawn::cli::add_status_command},   {"wait", cgspawn::cli::add_wait_command},
    {"destroy", cgspawn::cli::add_destroy_command}, {"list", cgspawn::cli::add_list_command},
    {"reap", cgspawn::cli::add_reap_command},       {"backends", cgspawn::cli::add_backends_command}};

// The verb word of the command line: its first word that is not the global option.
std::string_view verb_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (word == "--log-level")
      ++i;  // and its value
    else if (word.rfind("--log-level=", 0) != 0)
      return word;
  }
  return {};
}

std::string verb_names() {
  std::string names;
  for (const auto& verb : kVerbs) names += std::string(names.empty() ? "" : ", ") + verb.name;
  return names;
}

// Only the verb the command line names gets its options built: building all eight verbs' was
// about 0.3 ms of every start (bench [2]). A command line that names none (--help, --version,
// a mistyped verb) gets them all, for the help and the error, which are then the same as ever.
std::vector<cgspawn::cli::Verb> add_verbs(CLI::App& app, int argc, char** argv) {
  std::string_view named = verb_word(argc, argv);
  std::vector<cgspawn::cli::Verb> verbs;
  for (const auto& verb : kVerbs)
    if (named == verb.name) verbs.push_back(verb.add(app));
  if (verbs.empty())
    for (const auto& verb : kVerbs) verbs.push_back(verb.add(app));
  return verbs;
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

// What CLI11 found missing, in cgspawn's words: the verb (none, or a word that is none), or
// the program, which is the positional "command".
std::string missing(const std::string& what, std::string_view word) {
  if (what.find("subcommand") != std::string::npos)
    return word.empty() || word[0] == '-'
               ? "no command given: one of " + verb_names() + " (cgspawn --help)"
               : "unknown command \"" + std::string(word) + "\": one of " + verb_names();
  if (what.find("command") != std::string::npos) return "no program given: put PROGRAM [ARGS...] after --";
  return what;
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
  std::vector<Verb> verbs = add_verbs(app, argc, argv);
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
    print_error(missing(e.what(), verb_word(argc, argv)));
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
