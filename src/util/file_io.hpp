// SPDX-License-Identifier: MIT
// Small whole-file reads and writes, as cgroupfs and procfs want them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cgspawn {

// The file's contents, or nullopt (errno set) when it cannot be read.
std::optional<std::string> read_file(const std::string& path);
std::optional<std::string> read_file_at(int dirfd, const std::string& name);
// Everything in an open file from its start (a memfd a child wrote into).
std::string read_from_start(int fd);

// Writes `content` in one write(2). Returns 0 or the errno of the failure.
int write_file_at(int dirfd, const std::string& name, const std::string& content);
int write_file(const std::string& path, const std::string& content);

// Writes all of `text` to an open descriptor (a pipe, the task's stdout), waiting while a
// non-blocking one is full. false once it fails (EPIPE: the reader is gone); the rest is dropped.
bool write_all(int fd, std::string_view text);

// The value of "key value" lines (cgroup.events, cpu.stat, memory.events), if present.
std::optional<unsigned long long> keyed_value(std::string_view text, std::string_view key);

// Whether `word` is one of the whitespace-separated words of `text` (cgroup.controllers, ...).
bool has_word(std::string_view text, std::string_view word);

}  // namespace cgspawn
