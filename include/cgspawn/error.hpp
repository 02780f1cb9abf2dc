// SPDX-License-Identifier: MIT
// The one error type of the library boundary. Destroy never throws: its failures are rows
// of the CleanupReport. Spawn and the ledger throw cgspawn::Error.
#pragma once

#include <stdexcept>
#include <string>

// The public API: exported from libcgspawn, which hides everything else.
#pragma GCC visibility push(default)

namespace cgspawn {

enum class ErrorKind {
  invalid_argument,  // the caller asked for something malformed
  unsupported,       // the host cannot do what was asked (e.g. a limit without its controller)
  not_found,         // the program does not exist
  unknown_task,      // no task of that id in the ledger
  not_executable,    // the program exists but cannot be executed
  system,            // an operating-system call failed
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace cgspawn

#pragma GCC visibility pop
