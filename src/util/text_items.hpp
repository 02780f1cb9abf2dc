// SPDX-License-Identifier: MIT
// Taking a text apart without copying it: the kernel's small files (mountinfo, cpu.stat, the
// pressure files) are read at every task's start or end, where a stream copied each line.
#pragma once

#include <algorithm>
#include <string_view>

namespace cgspawn {

// The next `sep`-separated item of `text` (a line for '\n'), taken off its front: the rest
// after the separator stays in `text`. An empty `text` gives an empty item.
inline std::string_view take_item(std::string_view& text, char sep) {
  std::size_t end = std::min(text.find(sep), text.size());
  std::string_view item = text.substr(0, end);
  text.remove_prefix(std::min(end + 1, text.size()));
  return item;
}

}  // namespace cgspawn
