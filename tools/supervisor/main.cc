// SPDX-License-Identifier: MIT
// cgspawn-supervisor: owns one task started by `cgspawn start` (cgspawn::start_supervised).
// stdin: the start request. fd 3: "ok ID\n", or "error KIND MESSAGE\n" (KIND: ErrorKind).
#include "cgspawn/start.hpp"

int main() {
  return cgspawn::run_supervisor(0, 3);
}
