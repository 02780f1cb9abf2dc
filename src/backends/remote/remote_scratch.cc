// SPDX-License-Identifier: MIT
#include "backends/remote/remote_scratch.hpp"

#include "backends/remote/agent_script.hpp"
#include "backends/remote/markers.hpp"
#include "backends/remote/remote_kill.hpp"
#include "backends/remote/ssh_command.hpp"
#include "backends/remote/ssh_process.hpp"
#include "report/rows.hpp"

namespace cgspawn::remote {
namespace {

// Removing a large tree takes its time once the agent has answered.
constexpr std::chrono::seconds kRemoveBound{120};

ResourceOutcome from_reply(const Resource& res, const SshOutput& r, const std::string& mark,
                           const std::string& host) {
  for (const auto& m : find_markers(r.out, mark)) {
    if (m.word == "SCRATCH-REMOVED")
      return make_row(res, Outcome::destroyed, "removed on " + host + "; verified gone");
    if (m.word == "SCRATCH-GONE") return make_row(res, Outcome::already_gone, "not on " + host);
    if (m.word == "SCRATCH-LEFT") {
      std::string why = m.field("why");
      for (char& c : why) c = c == '-' ? ' ' : c;
      return make_row(res, Outcome::failed, "kept on " + host + ": " + why);
    }
    if (m.word == "ERR") return make_row(res, Outcome::failed, "the agent on " + host + ": " + m.text);
  }
  std::string why = one_line(r.err);
  return make_row(res, Outcome::not_guaranteed,
                  "no answer from " + host + (why.empty() ? "" : " (" + why + ")") +
                      ": the directory stays there until `cgspawn reap` reaches the host");
}

}  // namespace

ResourceRecord remote_scratch_record(const std::string& path, bool keep,
                                     std::map<std::string, std::string> attributes) {
  attributes["path"] = path;
  attributes["role"] = "scratch";
  if (keep) attributes["keep"] = "yes";
  return {{ResourceKind::directory, attributes["host"] + ":" + path}, ResourceState::intended, attributes};
}

ResourceOutcome remove_remote_scratch(const ResourceRecord& record) {
  const Resource& res = record.resource;
  try {
    SshTarget target = parse_target(record.attribute("host"), record.attribute("ssh_config"));
    if (record.attribute("keep") == "yes")
      return make_row(res, Outcome::kept, "kept on request (--keep-scratch)");
    std::string mark = make_mark();
    std::string command = agent_command(mark, "scratch-rm", {record.attribute("path")});
    std::string control = record.attribute("control_path");
    SshOutput r = run_ssh(ssh_argv(target, control.empty() ? Mux::none : Mux::client, control, command),
                          Clock::now() + kAnswerBound + kRemoveBound);
    ResourceOutcome row = from_reply(res, r, mark, target.display());
    if (record.state == ResourceState::intended && row.outcome == Outcome::already_gone)
      row.detail = "never created";
    row.seconds = r.seconds;
    return row;
  } catch (const std::exception& e) {
    return make_row(res, Outcome::failed, std::string("unusable record: ") + e.what());
  }
}

}  // namespace cgspawn::remote
