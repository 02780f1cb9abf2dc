// Parent cgroups that cgspawn made for its tasks.
#pragma once

#include <string>
#include <vector>

namespace cgspawn {

// rmdir each directory in order (deepest first), stopping at the first that is still in use.
void remove_empty(const std::vector<std::string>& dirs);

}  // namespace cgspawn
