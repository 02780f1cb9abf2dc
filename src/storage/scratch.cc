// SPDX-License-Identifier: MIT
#include "storage/scratch.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cgspawn/error.hpp"
#include "report/rows.hpp"
#include "storage/remove_tree.hpp"
#include "util/deadline.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

bool sets_env(const TaskSpec& spec, const std::string& name) {
  for (const auto& e : spec.env)
    if (e.compare(0, name.size() + 1, name + "=") == 0) return true;
  return false;
}

// The root, made as /var/tmp is (sticky, open to all: every user's tasks keep 0700 directories
// there) when it does not exist. An existing one must be a real directory (not a symlink) of
// root or the caller, sticky if others may write to it: nobody else can swap a task's directory.
void make_root(const std::string& root) {
  if (::mkdir(root.c_str(), 01777) == 0) {
    ::chmod(root.c_str(), 01777);  // past the umask
    return;
  }
  if (errno == ENOENT)
    throw Error(ErrorKind::invalid_argument,
                "scratch root " + root + ": its parent directory does not exist");
  if (errno != EEXIST) throw_sys("create scratch root " + root, errno);
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(ErrorKind::invalid_argument, "scratch root " + root + " is not a directory");
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    throw Error(ErrorKind::invalid_argument, "scratch root " + root + " is owned by uid " +
                                                 std::to_string(st.st_uid) + ", not by root or you");
  if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX))
    throw Error(ErrorKind::invalid_argument,
                "scratch root " + root + " is writable by others without the sticky bit (chmod +t it)");
}

std::string kept_detail(const std::string& why) {
  return "kept: " + why + " (remove it by hand, then `cgspawn reap` clears the record)";
}

}  // namespace

std::string scratch_path(const TaskSpec& spec) {
  std::string root = spec.scratch_root.empty() ? kDefaultScratchRoot : spec.scratch_root;
  if (root.front() != '/')
    throw Error(ErrorKind::invalid_argument, "--scratch-root " + root + ": not an absolute path");
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root + "/" + spec.id;
}

Capability local_scratch_capability() {
  Capability c{true, "a directory of the task's own under "};
  c.reason += kDefaultScratchRoot;
  c.reason +=
      " (--scratch-root) on this host, removed at destroy and verified gone (a mount inside keeps it, named)";
  return c;
}

void add_scratch_env(TaskSpec& spec, const std::string& path) {
  if (!sets_env(spec, "TMPDIR")) spec.env.push_back("TMPDIR=" + path);
  spec.env.push_back("CGSPAWN_SCRATCH=" + path);
}

ResourceRecord scratch_record(const std::string& path, bool keep) {
  ResourceRecord res{{ResourceKind::directory, path}, ResourceState::intended, {{"role", "scratch"}}};
  if (keep) res.attributes["keep"] = "yes";
  return res;
}

void make_scratch(const std::string& path) {
  make_root(path.substr(0, path.rfind('/')));
  if (::mkdir(path.c_str(), 0700) == 0) return;
  if (errno == EEXIST)
    throw Error(ErrorKind::invalid_argument, "scratch directory " + path + " exists already");
  throw_sys("create scratch directory " + path, errno);
}

ResourceOutcome remove_scratch(const ResourceRecord& record) {
  const Resource& res = record.resource;
  auto keep = record.attributes.find("keep");
  if (keep != record.attributes.end() && keep->second == "yes") {
    struct stat st {};
    if (::lstat(res.id.c_str(), &st) != 0)
      return make_row(res, Outcome::already_gone, "kept on request, but it is gone");
    return make_row(res, Outcome::kept, "kept on request (--keep-scratch)");
  }
  auto begun = Clock::now();
  TreeRemoval removal = remove_tree(res.id);
  ResourceOutcome row;
  if (removal.gone && !removal.existed)
    row = make_row(res, Outcome::already_gone,
                   record.state == ResourceState::intended ? "never created" : "gone before cgspawn acted");
  else if (removal.gone)
    row = make_row(res, Outcome::destroyed, "removed; verified gone");
  else if (!removal.mounts.empty())
    row = make_row(res, Outcome::failed,
                   kept_detail("a mount is inside it, at " + removal.mounts.front() +
                               " (cgspawn never removes what is under a mount)"));
  else
    row = make_row(res, Outcome::failed, "not removed: " + removal.error);
  row.seconds = seconds_between(begun, Clock::now());
  return row;
}

}  // namespace cgspawn
