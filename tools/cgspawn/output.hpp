// SPDX-License-Identifier: MIT
// What the CLI writes: one-line errors, and the --result file.
#pragma once

#include <string>

#include "cgspawn/error.hpp"

namespace cgspawn::cli {

// "cgspawn: <message>" on stderr, one line.
void print_error(const std::string& message);

// The --result FILE, opened (and so checked) before the task starts; written atomically
// (a temporary file renamed over FILE) so a reader never sees half a Result.
class ResultFile {
 public:
  explicit ResultFile(std::string path);  // "" = no file; throws cgspawn::Error if not writable
  ~ResultFile() { discard(); }
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;
  void write(const std::string& text);
  void discard();  // the task never started: leave no file behind

 private:
  std::string path_;
  std::string temp_path_;
  bool armed_ = false;  // FILE was checked and nothing is written yet
};

}  // namespace cgspawn::cli
