// SPDX-License-Identifier: MIT
// A recorded scratch directory: removed here, or by the remote backend on the host it names.
#include "backends/backend_rows.hpp"
#include "storage/scratch.hpp"

namespace cgspawn {

ResourceOutcome destroy_recorded_directory(const ResourceRecord& resource, const DestroyOptions& options) {
  if (resource.attributes.count("host")) return destroy_recorded_remote_directory(resource, options);
  return remove_scratch(resource);
}

}  // namespace cgspawn
