// Destroying a task cgroup known only from its ledger record (its owner is gone).
#include <unistd.h>

#include "backends/process/process_backend.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/destroy.hpp"
#include "cgspawn/error.hpp"
#include "report/rows.hpp"

namespace cgspawn {

ResourceOutcome destroy_recorded_cgroup(const ResourceRecord& res, const DestroyOptions& options) {
  if (::access(res.id.c_str(), F_OK) != 0)
    return make_row({res.kind, res.id}, Outcome::already_gone,
                    res.state == "intended" ? "never created" : "removed before cgspawn acted");
  try {
    return destroy_cgroup(Cgroup::open(res.id), options).row;
  } catch (const Error& e) {
    return make_row({res.kind, res.id}, Outcome::failed, e.what());
  }
}

}  // namespace cgspawn
