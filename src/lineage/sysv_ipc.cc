// SPDX-License-Identifier: MIT
#include "lineage/sysv_ipc.hpp"

#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <unordered_set>

#include "report/rows.hpp"
#include "util/file_io.hpp"
#include "util/sys_error.hpp"

namespace cgspawn {
namespace {

enum class IpcKind { shm, sem, msg };

struct IpcObject {
  IpcKind kind;
  std::string key;
  int id = 0;
  std::vector<pid_t> pids;  // what the kernel knows of who used it
  bool creator_known = false;
  uid_t cuid = 0;
  long long ctime = 0;
  unsigned long attached = 0;  // shm: nattch
  bool marked = false;         // shm: removed (IPC_RMID), kept by the kernel until the last detach
};

const char* name_of(IpcKind kind) {
  return kind == IpcKind::shm ? "shm" : kind == IpcKind::sem ? "sem" : "msg";
}

// The rows of /proc/sysvipc/<kind> by column name.
std::vector<std::map<std::string, std::string>> table(const char* kind) {
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(read_file(std::string("/proc/sysvipc/") + kind).value_or(""));
  std::string line;
  std::vector<std::string> columns;
  if (std::getline(in, line)) {
    std::istringstream header(line);
    for (std::string c; header >> c;) columns.push_back(c);
  }
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < columns.size() && fields >> row[columns[i]]; ++i) {
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

long long number(const std::map<std::string, std::string>& row, const std::string& column) {
  auto it = row.find(column);
  if (it == row.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

// The mode bits (`perms`, printed in octal); 0 where the column is missing or unreadable.
unsigned long mode_of(const std::map<std::string, std::string>& row) {
  auto it = row.find("perms");
  if (it == row.end()) return 0;
  try {
    return std::stoul(it->second, nullptr, 8);
  } catch (const std::exception&) {
    return 0;
  }
}

IpcObject object_of(IpcKind kind, const std::map<std::string, std::string>& row) {
  IpcObject o{kind, row.count("key") ? row.at("key") : "", 0, {}, false, 0, 0, 0, false};
  o.cuid = static_cast<uid_t>(number(row, "cuid"));
  o.ctime = number(row, "ctime");
  if (kind == IpcKind::shm) {
    o.id = static_cast<int>(number(row, "shmid"));
    o.pids = {static_cast<pid_t>(number(row, "cpid"))};
    o.creator_known = true;
    o.attached = static_cast<unsigned long>(number(row, "nattch"));
    o.marked = (mode_of(row) & SHM_DEST) != 0;
  } else if (kind == IpcKind::msg) {
    o.id = static_cast<int>(number(row, "msqid"));
    o.pids = {static_cast<pid_t>(number(row, "lspid")), static_cast<pid_t>(number(row, "lrpid"))};
  } else {
    o.id = static_cast<int>(number(row, "semid"));
    for (long long i = 0, n = number(row, "nsems"); i < n; ++i) {
      int pid = ::semctl(o.id, static_cast<int>(i), GETPID);
      if (pid > 0) o.pids.push_back(pid);
    }
  }
  return o;
}

std::vector<IpcObject> objects() {
  std::vector<IpcObject> out;
  for (IpcKind kind : {IpcKind::shm, IpcKind::sem, IpcKind::msg})
    for (const auto& row : table(name_of(kind))) out.push_back(object_of(kind, row));
  return out;
}

int remove_object(const IpcObject& o) {
  int r = o.kind == IpcKind::shm   ? ::shmctl(o.id, IPC_RMID, nullptr)
          : o.kind == IpcKind::sem ? ::semctl(o.id, 0, IPC_RMID)
                                   : ::msgctl(o.id, IPC_RMID, nullptr);
  return r == 0 || errno == EINVAL || errno == EIDRM ? 0 : errno;
}

bool still_there(const IpcObject& o) {
  for (const auto& now : objects())
    if (now.kind == o.kind && now.id == o.id) return true;
  return false;
}

std::string describe(const IpcObject& o, pid_t by) {
  return std::string(o.creator_known ? "made by pid " : "used by pid ") + std::to_string(by) + ", key " +
         o.key;
}

ResourceOutcome outcome_of(const IpcObject& o, pid_t by, bool remove) {
  Resource res{ResourceKind::ipc, std::string(name_of(o.kind)) + " " + std::to_string(o.id)};
  if (!remove) return make_row(res, Outcome::kept, describe(o, by) + ": left (--on-leftovers report)");
  if (int err = remove_object(o)) return make_row(res, Outcome::failed, sys_message("remove it", err));
  if (!still_there(o)) return make_row(res, Outcome::destroyed, describe(o, by) + ": removed");
  return make_row(res, Outcome::not_guaranteed,
                  describe(o, by) + ": marked for removal, still attached by " + std::to_string(o.attached) +
                      " process(es) outside the task");
}

}  // namespace

IpcCleanup destroy_sysv_ipc(const std::vector<pid_t>& ever, double since_unix, uid_t uid, bool remove) {
  IpcCleanup out;
  std::unordered_set<pid_t> task(ever.begin(), ever.end());
  // A pid of the task reused by another process later cannot make an object older than the task.
  long long since = static_cast<long long>(since_unix) - 1;
  for (const auto& o : objects()) {
    if (o.ctime < since) continue;
    auto by = std::find_if(o.pids.begin(), o.pids.end(), [&](pid_t p) { return task.count(p) > 0; });
    if (by != o.pids.end())
      out.rows.push_back(outcome_of(o, *by, remove));
    else if (!o.creator_known && o.cuid == uid)
      out.suspected.push_back(std::string("SysV ") + name_of(o.kind) + " " + std::to_string(o.id) + " (key " +
                              o.key +
                              "), made by this user during the task: the kernel keeps no creator; kept");
  }
  return out;
}

ResourceOutcome destroy_recorded_ipc(const ResourceRecord& res, const DestroyOptions&) {
  std::istringstream in(res.resource.id);
  std::string kind;
  int id = -1;
  in >> kind >> id;
  const IpcObject* found = nullptr;
  std::vector<IpcObject> now = objects();
  for (const auto& o : now)
    if (name_of(o.kind) == kind && o.id == id) found = &o;
  if (!found) return make_row(res.resource, Outcome::already_gone, "no longer exists");
  if (found->marked)
    return make_row(res.resource, Outcome::not_guaranteed,
                    "marked for removal, still attached by " + std::to_string(found->attached) +
                        " process(es); the kernel removes it with the last detach");
  // Ids come back only after many others, but they do: without proof it is the task's, it stays.
  return make_row(res.resource, Outcome::not_guaranteed,
                  "an object of this id exists, not marked for removal: the record cannot show it is the "
                  "task's; left");
}

}  // namespace cgspawn
