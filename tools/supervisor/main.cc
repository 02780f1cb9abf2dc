// SPDX-License-Identifier: MIT
// cgspawn-supervisor: the supervisor of one task started by `cgspawn start`, the watcher of a
// process tasks are bound to (--watch), or a ledger's lineage server (--lineage);
// cgspawn::supervisor_main says which.
#include "cgspawn/start.hpp"

int main(int argc, char** argv) {
  return cgspawn::supervisor_main(argc, argv);
}
