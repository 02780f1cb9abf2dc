// SPDX-License-Identifier: MIT
#include "util/mapped_file.hpp"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "util/sys_error.hpp"

namespace cgspawn {

MappedFile::MappedFile(int fd, const char* what) {
  struct stat st;
  if (::fstat(fd, &st) != 0) throw_sys(std::string("stat ") + what, errno);
  if (st.st_size == 0) return;
  // Lines appended later lie past this size: a reader sees the file as it was at this point.
  // (Only a truncation could take mapped pages away, and nothing truncates the files read so.)
  void* data =
      ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (data == MAP_FAILED) throw_sys(std::string("map ") + what, errno);
  data_ = data;
  size_ = static_cast<std::size_t>(st.st_size);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

}  // namespace cgspawn
