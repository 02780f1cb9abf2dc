// SPDX-License-Identifier: MIT
// A file's contents as they are now, mapped read-only (MAP_POPULATE: the page tables set up in
// one call, not one page fault per 4 KiB): a large file read without copying it.
#pragma once

#include <string_view>

namespace cgspawn {

class MappedFile {
 public:
  MappedFile() = default;
  // Maps what the open file holds now (nothing for an empty file); throws naming `what`.
  MappedFile(int fd, const char* what);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  std::string_view text() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace cgspawn
